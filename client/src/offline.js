/**
 * Offline mode: a copy of each document in the browser's IndexedDB, so edits
 * made while the server is unreachable survive closing the tab and are sent
 * once it is back. Each user's copies are kept apart (a scope the server
 * derives from the user), and those of other users are deleted.
 *
 * @module offline
 */

import { IndexeddbPersistence, clearDocument } from 'y-indexeddb'

/** Every IndexedDB database of offline mode is named `collab-offline:<scope>:<key>`. */
export const OFFLINE_PREFIX = 'collab-offline:'

/**
 * The names of offline mode's databases in this browser, except those of `keepScope`.
 *
 * @param {string|null} keepScope
 * @return {Promise<string[]>}
 */
const offlineDatabases = async (keepScope) => {
  const databases = globalThis.indexedDB ? await globalThis.indexedDB.databases() : []
  return databases.map(({ name }) => name || '')
    .filter((name) => name.startsWith(OFFLINE_PREFIX))
    .filter((name) => keepScope === null || !name.startsWith(`${OFFLINE_PREFIX}${keepScope}:`))
}

/**
 * Delete the offline copies of all documents (on logout), or of every user
 * but the one of `keepScope`.
 *
 * @param {string|null} [keepScope]
 * @return {Promise<void>}
 */
export const clearOfflineData = async (keepScope = null) => {
  await Promise.all((await offlineDatabases(keepScope)).map(clearDocument))
}

/**
 * Keep `ydoc` (document `key`) in IndexedDB for the user of `scope`, and delete
 * other users' copies.
 *
 * @param {import('yjs').Doc} ydoc
 * @param {string} key
 * @param {string} scope the user's offline scope, from the server's editor options
 * @return {{clear: () => Promise<void>, destroy: () => Promise<void>}} `clear` deletes this copy
 */
export const keepOffline = (ydoc, key, scope) => {
  clearOfflineData(scope)
  const persistence = new IndexeddbPersistence(`${OFFLINE_PREFIX}${scope}:${key}`, ydoc)
  return {
    clear: () => persistence.clearData(),
    destroy: () => persistence.destroy()
  }
}
