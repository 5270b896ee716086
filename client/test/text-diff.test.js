import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { applySplice, diffText, mapPosition, mapSelection } from '../src/text-diff.js'

test('diffText: insertion, deletion, replacement', () => {
  assert.deepEqual(diffText('hello world', 'hello, world', 6), { index: 5, remove: 0, insert: ',' })
  assert.deepEqual(diffText('hello world', 'hello', 5), { index: 5, remove: 6, insert: '' })
  assert.deepEqual(diffText('hello world', 'hello there', 11), { index: 6, remove: 5, insert: 'there' })
  assert.deepEqual(diffText('abc', 'abc', 1), { index: 1, remove: 0, insert: '' })
  assert.deepEqual(diffText('', 'abc'), { index: 0, remove: 0, insert: 'abc' })
  assert.deepEqual(diffText('abc', ''), { index: 0, remove: 3, insert: '' })
})

test('diffText: the caret decides where an ambiguous edit happened', () => {
  // Typing "a" between the two a's of "aa" leaves the caret at 2.
  assert.deepEqual(diffText('aa', 'aaa', 2), { index: 1, remove: 0, insert: 'a' })
  assert.deepEqual(diffText('aa', 'aaa', 1), { index: 0, remove: 0, insert: 'a' })
  assert.deepEqual(diffText('aa', 'aaa', 3), { index: 2, remove: 0, insert: 'a' })
  // Backspace / delete leave the caret where the removed text was.
  assert.deepEqual(diffText('aaa', 'aa', 0), { index: 0, remove: 1, insert: '' })
  assert.deepEqual(diffText('aaa', 'aa', 1), { index: 1, remove: 1, insert: '' })
  // Pasting "abab" after "ab" in "abab".
  assert.deepEqual(diffText('abab', 'abababab', 6), { index: 2, remove: 0, insert: 'abab' })
})

test('diffText: a wrong caret still gives a minimal splice', () => {
  assert.deepEqual(diffText('xaay', 'xaaay', 0), { index: 1, remove: 0, insert: 'a' })
  assert.deepEqual(diffText('xaay', 'xaaay', 5), { index: 3, remove: 0, insert: 'a' })
  assert.deepEqual(diffText('abcdef', 'abXdef', 0), { index: 2, remove: 1, insert: 'X' })
})

test('diffText: never splits a surrogate pair', () => {
  // U+1F600 and U+1F601 share their high surrogate.
  const splice = diffText('a\u{1F600}b', 'a\u{1F601}b', 3)
  assert.deepEqual(splice, { index: 1, remove: 2, insert: '\u{1F601}' })
  // U+1F600 and U+1D600 share their low surrogate.
  assert.deepEqual(diffText('\u{1F600}', '\u{1D600}', 2), { index: 0, remove: 2, insert: '\u{1D600}' })
  assert.deepEqual(diffText('x\u{1F600}', 'x\u{1F600}\u{1F600}', 5), { index: 3, remove: 0, insert: '\u{1F600}' })
})

test('diffText: applying the splice gives the new text (random edits)', () => {
  let seed = 42
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  const alphabet = ['a', 'b', '\n', '\u{1F600}', '\u{1F601}', 'é']
  const randomText = (length) => Array.from({ length }, () => alphabet[random(alphabet.length)]).join('')
  for (let i = 0; i < 2000; i++) {
    const oldText = randomText(random(8))
    const at = Math.min(random(oldText.length + 1), oldText.length)
    const removed = random(oldText.length - at + 1)
    const inserted = randomText(random(4))
    const newText = oldText.slice(0, at) + inserted + oldText.slice(at + removed)
    const splice = diffText(oldText, newText, random(newText.length + 1))
    assert.equal(applySplice(oldText, splice), newText)
    assert.ok(splice.remove >= 0 && splice.index >= 0)
    // Minimal up to surrogate widening: never larger than the real edit + 2 units.
    assert.ok(splice.remove <= removed + 2, `${JSON.stringify({ oldText, newText, splice })}`)
  }
})

/** The delta of one change to a Y.Text holding `text`, as a remote peer would send it. */
const deltaOf = (text, change) => {
  const doc = new Y.Doc()
  const ytext = doc.getText('content')
  ytext.insert(0, text)
  let delta = null
  ytext.observe((event) => { delta = event.delta })
  doc.transact(() => change(ytext))
  return { delta, after: ytext.toString() }
}

test('mapPosition: through insertions and deletions before, after and around', () => {
  const { delta } = deltaOf('0123456789', (t) => t.insert(2, 'ab'))
  assert.equal(mapPosition(1, delta), 1)
  assert.equal(mapPosition(2, delta), 2)
  assert.equal(mapPosition(2, delta, 1), 4)
  assert.equal(mapPosition(5, delta), 7)
  const deleted = deltaOf('0123456789', (t) => t.delete(3, 4)).delta
  assert.equal(mapPosition(2, deleted), 2)
  assert.equal(mapPosition(5, deleted), 3) // inside the deleted range
  assert.equal(mapPosition(8, deleted), 4)
  assert.equal(mapPosition(10, deleted), 6)
})

test('mapPosition: several changes in one transaction', () => {
  const { delta, after } = deltaOf('0123456789', (t) => {
    t.insert(8, 'XY') // before 8
    t.delete(1, 2) // "12"
    t.insert(0, 'Z')
  })
  assert.equal(after, 'Z03456789'.slice(0, 7) + 'XY' + '89')
  // "5" was at 5; now after "Z03 4" → index 4.
  assert.equal(after[mapPosition(5, delta)], '5')
  assert.equal(after[mapPosition(9, delta)], '9')
  assert.equal(mapPosition(0, delta), 0)
  assert.equal(mapPosition(0, delta, 1), 1)
})

test('mapPosition: embeds count as one position', () => {
  assert.equal(mapPosition(3, [{ retain: 1 }, { insert: { image: 'x' } }]), 4)
})

test('mapSelection: insertions at the edges stay outside, collapsed caret stays put', () => {
  const atStart = deltaOf('hello world', (t) => t.insert(6, '>>')).delta
  assert.deepEqual(mapSelection({ start: 6, end: 11 }, atStart), { start: 8, end: 13 })
  const atEnd = deltaOf('hello world', (t) => t.insert(5, '!')).delta
  assert.deepEqual(mapSelection({ start: 0, end: 5 }, atEnd), { start: 0, end: 5 })
  assert.deepEqual(mapSelection({ start: 5, end: 5 }, atEnd), { start: 5, end: 5 })
  const cleared = deltaOf('hello world', (t) => t.delete(0, 11)).delta
  assert.deepEqual(mapSelection({ start: 2, end: 9 }, cleared), { start: 0, end: 0 })
  const replaced = deltaOf('hello world', (t) => { t.delete(2, 5); t.insert(2, 'XY') }).delta
  const mapped = mapSelection({ start: 3, end: 4 }, replaced)
  assert.ok(mapped.start <= mapped.end)
})
