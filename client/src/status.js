/**
 * The sentence an editor's status line shows for a client's status.
 *
 * @module status
 */

/** What each status says (`local`: an editor not bound to a document yet). */
export const STATUS_LABELS = Object.freeze({
  local: 'Not shared yet: editing together starts once this is saved',
  connecting: 'Connecting…',
  connected: 'Syncing…',
  synced: 'Synced',
  'read-only': 'Read-only',
  offline: 'Offline: your changes are kept and sent when the connection is back',
  denied: 'Disconnected by the server'
})

/**
 * Why the server stopped the editor, by close code name (`collab.close_codes`);
 * a permanent code missing here shows `STATUS_LABELS.denied`.
 */
export const DENIED_LABELS = Object.freeze({
  MALFORMED_FRAME: 'Disconnected: the server could not read a message from this editor',
  NOT_AUTHENTICATED: 'Not signed in: sign in to open this document',
  FORBIDDEN: 'No access to this document',
  NOT_FOUND: 'This document does not exist',
  QUOTA_EXCEEDED: 'Too many documents open or created: close some tabs, then reload',
  DOCUMENT_DELETED: 'This document was deleted',
  UNTRUSTED_ORIGIN: 'Refused: the server does not trust pages at this address',
  FRAME_TOO_LARGE: 'Disconnected: a change was too large for the server',
  UNSUPPORTED_DATA: 'Disconnected: the server could not read a message from this editor',
  CONTENT_REFUSED: 'Disconnected: the server refused a change (nested too deeply or too large)'
})

/** What a synced editor says while the server cannot store the document's edits. */
export const STORAGE_FAILING_LABEL = 'Connected, but not saved yet: the server cannot store changes right now and keeps retrying'

/**
 * @typedef {object} StatusFacts
 * @property {boolean} [unsynced] local changes have not reached the server yet
 * @property {import('./client.js').CloseDetail} [detail] why the server closed for good
 * @property {boolean} [storageFailing] the server says it cannot store edits
 */

/**
 * The status line's text.
 *
 * @param {string} status a client {@link import('./client.js').Status} or `local`
 * @param {StatusFacts} [facts]
 * @return {string}
 */
export const statusLabel = (status, { unsynced = false, detail, storageFailing = false } = {}) => {
  if (detail) return `${DENIED_LABELS[detail.name] || STATUS_LABELS.denied} (${detail.code})`
  if (status === 'synced' && storageFailing) return STORAGE_FAILING_LABEL
  if (status === 'synced' && unsynced) return 'Sending changes…'
  return STATUS_LABELS[status]
}
