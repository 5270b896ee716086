/**
 * Turns the markup rendered by `{% collab_editor %}` and the
 * `CollaborativeEditor` widget into live editors.
 *
 * The markup is an element with `data-collab-editor` (JSON options, see
 * {@link EditorConfig}) holding `.collab-presence`, `.collab-status`,
 * `.collab-editor-body` and, for form widgets, the field's `<textarea>`: its
 * value seeds a new document, and it receives the content on every change,
 * so submitting the form stores it.
 *
 * @module mount
 */

import * as Y from 'yjs'
import { CollabClient } from './client.js'
import { loadMode } from './editors.js'
import { renderPresence, watchPresence } from './presence.js'
import { isNewDocument, seedDocument } from './seed.js'
import { statusLabel } from './status.js'
import { keepOffline } from './offline.js'

/**
 * @typedef {object} EditorConfig
 * @property {string|null} key the document key; null edits locally (an unsaved object)
 * @property {'rich'|'plain'} mode
 * @property {string|null} [url] websocket base URL; null for this page's server
 * @property {{name: string, color: string}} [user]
 * @property {boolean} [readOnly]
 * @property {string} [label] accessible name of the editable area
 * @property {string|null} [offline] the user's offline scope: keep the document in
 *   IndexedDB ({@link keepOffline}); null or missing: only in memory
 */

/** @type {WeakMap<HTMLElement, MountedEditor>} */
const mounted = new WeakMap()

/** @type {Set<MountedEditor>} the editors of this page, until destroyed */
const live = new Set()

/**
 * Close codes after which the offline copy goes: the user may no longer see the
 * document, or it is gone.
 */
const FORGET_OFFLINE = ['NOT_AUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'DOCUMENT_DELETED']

/**
 * Ask before the page goes away while an editor has changes the server does
 * not have yet (the browser shows its own "Leave site?" question).
 *
 * @param {BeforeUnloadEvent} event
 */
const warnBeforeUnload = (event) => {
  if (![...live].some(({ client }) => client && client.hasUnsyncedChanges)) return
  event.preventDefault()
  event.returnValue = ''
}

/**
 * @typedef {object} MountedEditor
 * @property {Y.Doc} ydoc
 * @property {CollabClient|null} client null when editing locally
 * @property {import('./editors.js').Editor|null} editor null until `ready`
 * @property {Promise<MountedEditor>} ready resolves once the editor is on the page
 * @property {() => void} destroy
 */

/**
 * @param {HTMLElement|null} statusEl
 * @param {string} status
 * @param {import('./status.js').StatusFacts} [facts]
 */
const showStatus = (statusEl, status, facts = {}) => {
  if (!statusEl) return
  statusEl.dataset.status = status
  statusEl.dataset.unsynced = String(Boolean(facts.unsynced))
  statusEl.dataset.storage = facts.storageFailing ? 'failing' : 'ok'
  statusEl.textContent = statusLabel(status, facts)
}

/**
 * Start the editor described by `container`'s markup (once; later calls
 * return the same editor). The connection starts at once; the editor itself
 * appears when its mode's code has loaded (`ready`).
 *
 * @param {HTMLElement} container
 * @return {MountedEditor}
 * @throws {TypeError} the markup asks for an unknown editor mode
 */
export const mountEditor = (container) => {
  const existing = mounted.get(container)
  if (existing) return existing
  /** @type {EditorConfig} */
  const config = JSON.parse(container.dataset.collabEditor)
  const loading = loadMode(config.mode)
  const client = config.key
    ? new CollabClient({ key: config.key, url: config.url || undefined, user: config.user, readOnly: config.readOnly })
    : null
  const ydoc = client ? client.doc : new Y.Doc()
  const offline = client && config.offline ? keepOffline(ydoc, config.key, config.offline) : null
  /** @type {Array<() => void>} */
  const stops = []
  /** @type {MountedEditor} */
  const handle = {
    ydoc,
    client,
    editor: null,
    ready: loading.then((mode) => {
      if (mounted.get(container) === handle) stops.push(start(container, config, handle, mode, offline))
      return handle
    }),
    destroy () {
      stops.forEach((stop) => stop())
      live.delete(handle)
      if (live.size === 0) globalThis.removeEventListener?.('beforeunload', warnBeforeUnload)
      if (offline) offline.destroy()
      if (client) client.destroy()
      else ydoc.destroy()
      mounted.delete(container)
    }
  }
  mounted.set(container, handle)
  live.add(handle)
  globalThis.addEventListener?.('beforeunload', warnBeforeUnload)
  return handle
}

/**
 * Create the editor of a mounted container and tie it to the client, the
 * status line, the presence list and the form field.
 *
 * @param {HTMLElement} container
 * @param {EditorConfig} config
 * @param {MountedEditor} handle gets the editor
 * @param {import('./editors.js').EditorMode} mode
 * @param {{clear: () => Promise<void>}|null} offline the document's offline copy
 * @return {() => void} undoes all of it
 */
const start = (container, config, handle, mode, offline) => {
  const { ydoc, client } = handle
  const field = container.querySelector('textarea')
  const statusEl = container.querySelector('.collab-status')
  const presenceEl = container.querySelector('.collab-presence')
  const editor = mode.create(container.querySelector('.collab-editor-body'), {
    ydoc, awareness: client?.awareness, label: config.label
  })
  handle.editor = editor
  const initial = field ? field.value : ''
  const seed = () => {
    if (initial) seedDocument(ydoc, `${config.mode}\n${initial}`, (scratch) => mode.write(scratch, initial))
  }
  const copyToField = () => {
    if (field) field.value = editor.getValue()
  }
  ydoc.on('update', copyToField)
  // The document may have arrived while the editor's code loaded.
  if (!isNewDocument(ydoc)) copyToField()
  const stops = [() => ydoc.off('update', copyToField), () => editor.destroy()]
  if (client) {
    let seeded = false
    /** @type {import('./client.js').CloseDetail | undefined} */
    let closeDetail
    const show = () => showStatus(statusEl, client.status, {
      unsynced: client.hasUnsyncedChanges, detail: closeDetail, storageFailing: client.storageFailing
    })
    const onStatus = (status, detail) => {
      closeDetail = detail
      show()
      if (offline && detail && FORGET_OFFLINE.includes(detail.name)) offline.clear()
      if (status === 'synced' && !seeded) {
        seeded = true
        seed()
        editor.setEditable(true)
      } else if (status === 'read-only' || status === 'denied') {
        editor.setEditable(false)
      }
    }
    client.on('status', onStatus)
    client.on('unsynced', show)
    client.on('storage', show)
    onStatus(client.status, client.status === 'denied' ? client.closeDetail : undefined)
    if (presenceEl) stops.push(watchPresence(client.awareness, (users) => renderPresence(presenceEl, users)))
  } else {
    seed()
    editor.setEditable(!config.readOnly)
    showStatus(statusEl, 'local')
  }
  return () => stops.reverse().forEach((stop) => stop())
}

/**
 * Mount every editor under `root`, except those of Django formset templates
 * (field names containing `__prefix__`).
 *
 * @param {ParentNode} [root]
 * @return {MountedEditor[]} each one's `ready` tells when its editor is there
 */
export const mountAll = (root = document) =>
  Array.from(root.querySelectorAll('[data-collab-editor]'))
    .filter((container) => !container.querySelector('textarea[name*="__prefix__"]'))
    .map(mountEditor)
