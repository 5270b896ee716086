/**
 * Two-way binding between an HTML `<textarea>` and a `Y.Text`.
 *
 * @module textarea-binding
 */

import { diffText, mapSelection } from './text-diff.js'

/**
 * Keeps a textarea and a `Y.Text` equal.
 *
 * Local input becomes one minimal delete/insert on the `Y.Text`; a remote
 * change rewrites the textarea and maps the caret/selection through it, so
 * the local user keeps their place. Code that sets `textarea.value` itself
 * must dispatch an `input` event afterwards, like the browser does.
 */
export class TextareaBinding {
  /**
   * @param {import('yjs').Text} ytext a `Y.Text` that belongs to a `Y.Doc`
   * @param {HTMLTextAreaElement} textarea its value is replaced by the text of `ytext`
   */
  constructor (ytext, textarea) {
    this.ytext = ytext
    this.textarea = textarea
    // The value both sides agreed on last: the base that local input is
    // diffed against and that remote deltas apply to.
    this._value = ytext.toString()
    textarea.value = this._value
    this._onInput = () => this._applyLocalInput()
    this._onTextChange = (event, transaction) => {
      // Our own edits are already in the textarea.
      if (transaction.origin !== this) this._applyRemoteDelta(event.delta)
    }
    textarea.addEventListener('input', this._onInput)
    ytext.observe(this._onTextChange)
  }

  _applyLocalInput () {
    const value = this.textarea.value
    if (value === this._value) return
    const { index, remove, insert } = diffText(this._value, value, this.textarea.selectionEnd)
    this._value = value
    this.ytext.doc.transact(() => {
      if (remove > 0) this.ytext.delete(index, remove)
      if (insert.length > 0) this.ytext.insert(index, insert)
    }, this)
  }

  /**
   * @param {Array<{retain?: number, insert?: string|object, delete?: number}>} delta
   */
  _applyRemoteDelta (delta) {
    const textarea = this.textarea
    const { start, end } = mapSelection(
      { start: textarea.selectionStart, end: textarea.selectionEnd },
      delta
    )
    const { selectionDirection, scrollTop, scrollLeft } = textarea
    this._value = this.ytext.toString()
    // Assigning the value moves the caret to the end and may scroll.
    textarea.value = this._value
    textarea.setSelectionRange(start, end, selectionDirection)
    textarea.scrollTop = scrollTop
    textarea.scrollLeft = scrollLeft
  }

  /** Stop syncing; the textarea keeps its current value. */
  destroy () {
    this.textarea.removeEventListener('input', this._onInput)
    this.ytext.unobserve(this._onTextChange)
  }
}
