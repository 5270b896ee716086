/**
 * Pure text logic shared by the editor bindings: turning a local edit into one
 * minimal splice, and mapping caret positions through a remote Yjs delta.
 *
 * Positions are UTF-16 code unit offsets, the unit of both `textarea.value`
 * and `Y.Text`.
 *
 * @module text-diff
 */

/**
 * @typedef {object} Splice
 * @property {number} index  where the change starts (same in old and new text)
 * @property {number} remove how many code units of the old text are removed
 * @property {string} insert the text inserted at `index`
 */

/**
 * @typedef {object} Selection
 * @property {number} start
 * @property {number} end
 */

const isHighSurrogate = (code) => code >= 0xd800 && code <= 0xdbff
const isLowSurrogate = (code) => code >= 0xdc00 && code <= 0xdfff

/**
 * Describe the change from `oldText` to `newText` as one splice, by trimming
 * their common prefix and suffix.
 *
 * When the changed region is ambiguous ("aa" -> "aaa" could be an insertion
 * at 0, 1 or 2), `cursor` — the caret in the new text right after the edit —
 * picks the region the user actually touched: typing and pasting leave the
 * caret at the end of the inserted text, deleting leaves it at the start of
 * the removed text. A wrong or missing cursor still yields a minimal splice.
 *
 * The splice never cuts a surrogate pair in half, because Yjs replaces half
 * pairs with U+FFFD.
 *
 * @param {string} oldText
 * @param {string} newText
 * @param {number} [cursor] caret offset in `newText` after the edit
 * @return {Splice}
 */
export const diffText = (oldText, newText, cursor = newText.length) => {
  const minLength = Math.min(oldText.length, newText.length)
  let prefix = 0
  while (prefix < minLength && oldText.charCodeAt(prefix) === newText.charCodeAt(prefix)) {
    prefix++
  }
  let suffix = 0
  while (
    suffix < minLength &&
    oldText.charCodeAt(oldText.length - 1 - suffix) === newText.charCodeAt(newText.length - 1 - suffix)
  ) {
    suffix++
  }
  let index = prefix
  let end = suffix // length of the kept common suffix
  if (prefix + suffix > minLength) {
    // Prefix and suffix overlap: every split point in [minLength - suffix,
    // prefix] gives a minimal splice. Take the one whose changed region in
    // the new text ends at the caret.
    const atCaret = minLength - (newText.length - cursor)
    index = Math.max(minLength - suffix, Math.min(prefix, atCaret))
    end = minLength - index
  }
  if (index > 0 && isHighSurrogate(newText.charCodeAt(index - 1))) index--
  if (end > 0 && isLowSurrogate(newText.charCodeAt(newText.length - end))) end--
  return {
    index,
    remove: oldText.length - index - end,
    insert: newText.slice(index, newText.length - end)
  }
}

/**
 * Apply a splice to a string (the inverse of {@link diffText}).
 *
 * @param {string} text
 * @param {Splice} splice
 * @return {string}
 */
export const applySplice = (text, { index, remove, insert }) =>
  text.slice(0, index) + insert + text.slice(index + remove)

/**
 * Map a position in a text through a Yjs delta (`YTextEvent.delta`: a list of
 * `{retain}`, `{insert}` and `{delete}` ops) to the same place in the changed text.
 *
 * @param {number} position offset in the text before the change
 * @param {Array<{retain?: number, insert?: string|object, delete?: number}>} delta
 * @param {number} [assoc] for an insertion exactly at `position`: negative
 *   keeps the position before the inserted text, positive moves it after
 * @return {number} offset in the text after the change
 */
export const mapPosition = (position, delta, assoc = -1) => {
  let oldIndex = 0 // walks the text before the change
  let mapped = position
  for (const op of delta) {
    if (op.retain !== undefined) {
      oldIndex += op.retain
    } else if (op.insert !== undefined) {
      // Embeds (non-string inserts) take one position in Y.Text.
      const length = typeof op.insert === 'string' ? op.insert.length : 1
      if (oldIndex < position || (oldIndex === position && assoc > 0)) mapped += length
    } else if (op.delete !== undefined) {
      if (oldIndex < position) mapped -= Math.min(op.delete, position - oldIndex)
      oldIndex += op.delete
    }
    if (oldIndex > position) break
  }
  return mapped
}

/**
 * Map a selection through a Yjs delta. Text inserted at either edge of a
 * non-empty selection stays outside it; a collapsed caret stays before text
 * inserted at its position, so a remote user typing there does not push it.
 *
 * @param {Selection} selection
 * @param {Array<{retain?: number, insert?: string|object, delete?: number}>} delta
 * @return {Selection}
 */
export const mapSelection = ({ start, end }, delta) => {
  if (start === end) {
    const caret = mapPosition(start, delta, -1)
    return { start: caret, end: caret }
  }
  const mappedStart = mapPosition(start, delta, 1)
  const mappedEnd = mapPosition(end, delta, -1)
  return { start: mappedStart, end: Math.max(mappedStart, mappedEnd) }
}
