/**
 * Entry point of `collab-textarea.js`: bind a plain `<textarea>` to a
 * collaborative document. Built as an IIFE exposing the global `CollabTextarea`.
 *
 * @example
 *   const session = CollabTextarea.attach(document.querySelector('textarea'), {
 *     key: 'welcome',
 *     user: { name: 'alice', color: '#d33' },
 *     statusEl: document.querySelector('#status'),
 *     presenceEl: document.querySelector('#presence')
 *   })
 *   // later: session.destroy()
 *
 * @module textarea
 */

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { defaultServerUrl, watchStatus } from './connection.js'
import { renderPresence, watchPresence } from './presence.js'
import { TextareaBinding } from './textarea-binding.js'

export { TextareaBinding }

/** Name of the shared `Y.Text` edited by the textarea. */
export const TEXT_NAME = 'content'

const STATUS_LABELS = {
  connecting: 'Connecting…',
  connected: 'Connected, syncing…',
  synced: 'Synced',
  offline: 'Offline, reconnecting…'
}

/**
 * @param {import('./connection.js').Status} status
 * @param {{code: number, reason: string}} [detail]
 * @return {string}
 */
const statusLabel = (status, detail) => {
  if (!detail) return STATUS_LABELS[status]
  const reason = detail.reason ? ` ${detail.reason}` : ''
  return `Offline: the server closed the connection (${detail.code}${reason})`
}

/**
 * Share `textarea` as the `Y.Text` "content" of the document `key`.
 *
 * The textarea's own value is replaced by the document's text, and it stays
 * read-only until the first sync with the server, so nothing typed before is
 * merged into a document the user has not seen.
 *
 * @param {HTMLTextAreaElement} textarea
 * @param {object} options
 * @param {string} options.key document key, the last segment of the websocket URL
 * @param {string} [options.url] websocket base URL; default: this page's host + `/ws/collab`
 * @param {{name: string, color: string}} [options.user] shown to the other users
 * @param {HTMLElement} [options.statusEl] gets the status as text and as `data-status`
 * @param {HTMLElement} [options.presenceEl] a list element filled with the present users
 * @param {(status: string, detail?: {code: number, reason: string}) => void} [options.onStatus]
 * @param {boolean} [options.readOnly] keep the textarea read-only (for viewers)
 * @return {{doc: Y.Doc, provider: WebsocketProvider, binding: TextareaBinding, destroy: () => void}}
 */
export const attach = (textarea, {
  key,
  url = defaultServerUrl(),
  user,
  statusEl,
  presenceEl,
  onStatus,
  readOnly = false
} = {}) => {
  if (!key) throw new TypeError('CollabTextarea.attach: options.key is required')
  const wasReadOnly = textarea.readOnly
  textarea.readOnly = true
  const doc = new Y.Doc()
  const binding = new TextareaBinding(doc.getText(TEXT_NAME), textarea)
  const provider = new WebsocketProvider(url, key, doc, { connect: false })
  if (user) {
    provider.awareness.setLocalStateField('user', { name: user.name, color: user.color })
  }
  const onSynced = (synced) => {
    if (synced) textarea.readOnly = readOnly
  }
  provider.on('sync', onSynced)
  // Connect before watching, so the first status reported is `connecting`;
  // the socket reports nothing before this function returns.
  provider.connect()
  const unwatchStatus = watchStatus(provider, (status, detail) => {
    if (statusEl) {
      statusEl.dataset.status = status
      statusEl.textContent = statusLabel(status, detail)
    }
    if (onStatus) onStatus(status, detail)
  })
  const unwatchPresence = presenceEl
    ? watchPresence(provider.awareness, (users) => renderPresence(presenceEl, users))
    : () => {}

  const destroy = () => {
    unwatchStatus()
    unwatchPresence()
    provider.off('sync', onSynced)
    binding.destroy()
    provider.destroy()
    doc.destroy()
    textarea.readOnly = wasReadOnly
  }
  return { doc, provider, binding, destroy }
}
