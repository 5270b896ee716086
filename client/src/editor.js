/**
 * Entry of `collab-editor.mjs`: the client plus both editors. Loaded
 * as a module it mounts every editor on the page, and those of admin inline
 * rows added later (Django's `formset:added` event).
 *
 * @module editor
 */

import { mountAll } from './mount.js'

export * from './index.js'
export { mountEditor, mountAll } from './mount.js'
export { clearOfflineData } from './offline.js'
export { createRichTextEditor } from './rich-text.js'
export { createCodeEditor } from './code.js'

if (typeof document !== 'undefined') {
  mountAll()
  document.addEventListener('formset:added', (event) => mountAll(event.target))
}
