/**
 * The browser client of collab as an ES module (`collab-client.mjs`).
 *
 * @module index
 */

export * as Y from 'yjs'
export { CollabClient, DENIED_CODES, READ_ONLY_REASON, defaultServerUrl } from './client.js'
export { reconnectDelay } from './backoff.js'
export { seedDocument, isNewDocument } from './seed.js'
export { presentUsers, renderPresence, safeUser, watchPresence } from './presence.js'
export { safeUrl } from './urls.js'
