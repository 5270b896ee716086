import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { TextareaBinding } from '../src/textarea-binding.js'

/** The parts of an HTMLTextAreaElement the binding uses. */
class FakeTextarea {
  constructor () {
    this._value = ''
    this.selectionStart = 0
    this.selectionEnd = 0
    this.selectionDirection = 'none'
    this.scrollTop = 0
    this.scrollLeft = 0
    this._listeners = new Set()
  }

  get value () { return this._value }

  set value (value) {
    this._value = value
    this.selectionStart = this.selectionEnd = value.length
  }

  setSelectionRange (start, end, direction) {
    this.selectionStart = start
    this.selectionEnd = end
    this.selectionDirection = direction
  }

  addEventListener (type, listener) { if (type === 'input') this._listeners.add(listener) }
  removeEventListener (type, listener) { this._listeners.delete(listener) }

  /** What the browser does when the user replaces [start, end) with `text`. */
  type (start, end, text) {
    this._value = this._value.slice(0, start) + text + this._value.slice(end)
    this.selectionStart = this.selectionEnd = start + text.length
    this._listeners.forEach((listener) => listener())
  }
}

/** Two documents that exchange every update, like two clients through a server. */
const connectedPair = () => {
  const a = new Y.Doc()
  const b = new Y.Doc()
  a.on('update', (update, origin) => { if (origin !== 'remote') Y.applyUpdate(b, update, 'remote') })
  b.on('update', (update, origin) => { if (origin !== 'remote') Y.applyUpdate(a, update, 'remote') })
  return [a, b]
}

test('local typing becomes minimal Y.Text edits', () => {
  const doc = new Y.Doc()
  const ytext = doc.getText('content')
  const textarea = new FakeTextarea()
  const binding = new TextareaBinding(ytext, textarea)
  const deltas = []
  ytext.observe((event) => deltas.push(event.delta))
  textarea.type(0, 0, 'hello world')
  textarea.type(5, 5, ',')
  textarea.type(7, 12, 'there')
  assert.equal(ytext.toString(), 'hello, there')
  assert.deepEqual(deltas[1], [{ retain: 5 }, { insert: ',' }])
  assert.deepEqual(deltas[2], [{ retain: 7 }, { delete: 5 }, { insert: 'there' }])
  binding.destroy()
  textarea.type(0, 0, 'ignored ')
  assert.equal(ytext.toString(), 'hello, there')
})

test('remote edits update the textarea and keep the local selection', () => {
  const [docA, docB] = connectedPair()
  const textareaA = new FakeTextarea()
  const textareaB = new FakeTextarea()
  const bindingA = new TextareaBinding(docA.getText('content'), textareaA)
  const bindingB = new TextareaBinding(docB.getText('content'), textareaB)
  textareaA.type(0, 0, 'one two three')
  assert.equal(textareaB.value, 'one two three')
  // B selects "two" backwards; A edits before and after it.
  textareaB.setSelectionRange(4, 7, 'backward')
  textareaA.type(0, 0, '>> ')
  textareaA.type(16, 16, '!')
  assert.equal(textareaB.value, '>> one two three!')
  assert.equal(textareaB.value.slice(textareaB.selectionStart, textareaB.selectionEnd), 'two')
  assert.equal(textareaB.selectionDirection, 'backward')
  // B types at its caret while A deletes the text before it.
  textareaB.type(7, 10, 'TWO')
  textareaA.type(0, 3, '')
  assert.equal(textareaA.value, 'one TWO three!')
  assert.equal(textareaB.value, 'one TWO three!')
  assert.equal(textareaB.selectionStart, 7)
  bindingA.destroy()
  bindingB.destroy()
})

test('the textarea starts with the text of the document', () => {
  const doc = new Y.Doc()
  doc.getText('content').insert(0, 'existing')
  const textarea = new FakeTextarea()
  textarea.value = 'replaced'
  const binding = new TextareaBinding(doc.getText('content'), textarea)
  assert.equal(textarea.value, 'existing')
  binding.destroy()
})
