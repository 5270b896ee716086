/**
 * Entry of `collab-editor.mjs`: the client, and the editors loaded on demand
 * (each mode's code is a chunk of its own, `loadMode`). Loaded as a module it
 * mounts every editor on the page, and those of admin inline rows added later
 * (Django's `formset:added` event).
 *
 * @module editor
 */

import { mountAll } from './mount.js'

export * from './index.js'
export { mountEditor, mountAll } from './mount.js'
export { clearOfflineData } from './offline.js'
export { loadMode, MODE_NAMES } from './editors.js'

if (typeof document !== 'undefined') {
  mountAll()
  document.addEventListener('formset:added', (event) => mountAll(event.target))
}
