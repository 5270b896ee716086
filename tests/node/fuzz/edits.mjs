// Random edits of every kind of shared type an application keeps in a collab document:
// plain text, ProseMirror-style rich text, and maps and arrays of JSON values.

import * as prng from 'lib0/prng'
import * as Y from 'yjs'

export const ROOTS = {
  content: (doc) => doc.getText('content'),
  prosemirror: (doc) => doc.getXmlFragment('prosemirror'),
  meta: (doc) => doc.getMap('meta'),
  items: (doc) => doc.getArray('items')
}

/** Define the shared types every replica has, so all of them name their roots alike. */
export const defineRoots = (doc) => {
  for (const root of Object.values(ROOTS)) root(doc)
}

const WORDS = ['collab', 'Yjs', 'héllo', '👩‍💻', 'tab\t', 'line\n', '', '<b>&amp;</b>', 'x']
const MARKS = [{ bold: true }, { italic: true }, { link: { href: 'https://example.com' } }, { bold: null }]
const JSON_VALUES = [
  null, true, false, 0, -1, 1.5, 2 ** 53 - 1, -(2 ** 31), 'text', '',
  [1, 'two', { three: 3 }, [4, [5]]], { nested: { deeper: [null, { k: 'v' }] } }
]

const word = (gen) => prng.oneOf(gen, WORDS)
const position = (gen, length) => prng.uint32(gen, 0, length)

/**
 * ``index`` moved back to a character boundary: editors never place a cursor inside a
 * character that takes two UTF-16 code units (pycrdt cannot split one; collab refuses
 * such edits with 4422).
 */
const boundary = (string, index) => {
  const before = string.charCodeAt(index - 1)
  return before >= 0xd800 && before <= 0xdbff ? index - 1 : index
}

const editText = (gen, text) => {
  const content = text.toDelta().map((op) => (typeof op.insert === 'string' ? op.insert : ' ')).join('')
  const length = content.length
  const choice = prng.uint32(gen, 0, 3)
  if (choice === 0 && length > 0) {
    const index = boundary(content, position(gen, length - 1))
    const end = boundary(content, index + prng.uint32(gen, 1, Math.min(4, length - index)))
    if (end > index) text.delete(index, end - index)
  } else if (choice === 1 && length > 0) {
    const index = boundary(content, position(gen, length - 1))
    const end = boundary(content, index + prng.uint32(gen, 1, length - index))
    if (end > index) text.format(index, end - index, prng.oneOf(gen, MARKS))
  } else {
    const attributes = prng.bool(gen) ? prng.oneOf(gen, MARKS) : undefined
    text.insert(boundary(content, position(gen, length)), word(gen), attributes)
  }
}

// A block as ProseMirror's Yjs binding stores it: an element, attributes, formatted text,
// sometimes nested lists.
const block = (gen, depth = 0) => {
  const name = prng.oneOf(gen, ['paragraph', 'heading', 'blockquote', 'bullet_list'])
  const element = new Y.XmlElement(name)
  if (name === 'heading') element.setAttribute('level', String(prng.uint32(gen, 1, 6)))
  if (name === 'bullet_list' && depth < 3) {
    const item = new Y.XmlElement('list_item')
    item.insert(0, [block(gen, depth + 1)])
    element.insert(0, [item])
  } else {
    const text = new Y.XmlText()
    text.insert(0, word(gen) || 'x', prng.bool(gen) ? prng.oneOf(gen, MARKS) : undefined)
    element.insert(0, [text])
  }
  return element
}

const editRichText = (gen, fragment) => {
  const length = fragment.length
  const choice = prng.uint32(gen, 0, 3)
  if (choice === 0 && length > 1) {
    fragment.delete(position(gen, length - 1), 1)
  } else if (choice === 1 && length > 0) {
    const element = fragment.get(position(gen, length - 1))
    if (element instanceof Y.XmlElement) {
      element.setAttribute('data-id', String(prng.uint32(gen, 0, 999)))
      const first = element.get(0)
      if (first instanceof Y.XmlText) editText(gen, first)
    }
  } else {
    fragment.insert(position(gen, length), [block(gen)])
  }
}

const editMap = (gen, map) => {
  const key = `k${prng.uint32(gen, 0, 6)}`
  if (prng.uint32(gen, 0, 4) === 0) {
    map.delete(key)
  } else if (prng.uint32(gen, 0, 5) === 0) {
    const child = new Y.Map()
    map.set(key, child)
    child.set('value', prng.oneOf(gen, JSON_VALUES))
  } else {
    map.set(key, prng.oneOf(gen, JSON_VALUES))
  }
}

const editArray = (gen, array) => {
  const length = array.length
  if (prng.uint32(gen, 0, 3) === 0 && length > 0) {
    array.delete(position(gen, length - 1), 1)
  } else if (prng.uint32(gen, 0, 6) === 0) {
    array.insert(position(gen, length), [Uint8Array.of(1, 2, 3)])
  } else {
    array.insert(position(gen, length), [prng.oneOf(gen, JSON_VALUES), prng.oneOf(gen, JSON_VALUES)])
  }
}

const EDITORS = { content: editText, prosemirror: editRichText, meta: editMap, items: editArray }

/** Make one random edit to one of `doc`'s shared types, in one transaction. */
export const randomEdit = (gen, doc) => {
  const name = prng.oneOf(gen, Object.keys(EDITORS))
  doc.transact(() => EDITORS[name](gen, ROOTS[name](doc)), name)
  return name
}
