/**
 * Filling a brand-new shared document with initial content (for example the
 * current value of a form field) without ever duplicating it.
 *
 * Two users may open a fresh document at the same moment and both see it
 * empty. Each then seeds it, but both build the seed in a scratch `Y.Doc`
 * whose client id is derived from the seed's content: equal content gives
 * byte-identical Yjs structs with identical ids, which Yjs merges into one.
 * Different content gets a different id, so two different seeds can never
 * be mistaken for each other (they would both show, never corrupt the document).
 *
 * @module seed
 */

import * as Y from 'yjs'

/**
 * A 32-bit FNV-1a hash of a string's UTF-16 code units, used as the client id
 * of the scratch document that builds a seed.
 *
 * @param {string} text
 * @return {number} an unsigned 32-bit integer
 */
export const seedClientId = (text) => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/**
 * Whether `doc` has never held any content: no client has written to it.
 * A document whose text was deleted again is not new (its deletions are content).
 *
 * @param {Y.Doc} doc
 * @return {boolean}
 */
export const isNewDocument = (doc) => doc.store.clients.size === 0

/**
 * Seed `doc` if it is new: `fill` writes the initial content into a scratch
 * document, whose update is then applied to `doc`.
 *
 * @param {Y.Doc} doc the shared document, after its first sync with the server
 * @param {string} identity everything the seed depends on (e.g. editor mode and value)
 * @param {(scratch: Y.Doc) => void} fill writes the content; must depend only on `identity`
 * @return {boolean} whether `doc` was seeded
 */
export const seedDocument = (doc, identity, fill) => {
  if (!isNewDocument(doc)) return false
  const scratch = new Y.Doc()
  scratch.clientID = seedClientId(identity)
  fill(scratch)
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(scratch))
  scratch.destroy()
  return true
}
