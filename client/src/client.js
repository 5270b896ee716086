/**
 * `CollabClient`: one shared document of a collab server, opened by key.
 *
 * A thin layer over y-websocket's stock `WebsocketProvider` (so it speaks the
 * plain y-websocket protocol) that adds what an editor page needs: one
 * status, reconnection with exponential backoff and jitter, read-only
 * detection, the user's presence info, and an "unsynced changes" flag.
 *
 * @module client
 */

import * as Y from 'yjs'
import { WebsocketProvider, messageAuth } from 'y-websocket'
import * as authProtocol from 'y-protocols/auth'
import { ObservableV2 } from 'lib0/observable'
import { reconnectDelay } from './backoff.js'
import { guardRemoteStates, safeUser, storageFailing } from './presence.js'
import { PERMANENT_CLOSE_CODES } from './server-constants.js'

/** Path of the collab websocket routes on the Django server. */
export const DEFAULT_PATH = '/ws/collab'

/**
 * Close codes after which reconnecting cannot help: every permanent (44xx) code
 * of `collab.close_codes.CloseCode`, such as 4403 forbidden or 4410 deleted.
 */
export const DENIED_CODES = Object.freeze(Object.keys(PERMANENT_CLOSE_CODES).map(Number))

/** What the server's permission-denied message starts with for read-only connections. */
export const READ_ONLY_REASON = 'read-only'

/** How often (ms) the unsynced-changes flag checks whether sent frames left the browser. */
const FLUSH_CHECK_INTERVAL = 50

/**
 * The websocket base URL of the page's own server: `ws:` or `wss:` matching
 * the page's scheme, plus {@link DEFAULT_PATH}. The provider appends `/<key>`.
 *
 * @param {{protocol: string, host: string}} [location] defaults to the page's
 * @return {string}
 */
export const defaultServerUrl = (location = globalThis.location) =>
  `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${DEFAULT_PATH}`

/**
 * @typedef {'connecting'|'connected'|'synced'|'read-only'|'offline'|'denied'} Status
 * - `connecting`: the first connection attempt is under way.
 * - `connected`: the socket is open, the initial sync is not finished.
 * - `synced`: the document has the server's state; edits are shared live.
 * - `read-only`: as `synced`, but this user may only read (said by the page
 *   or by the server); local changes are not shared.
 * - `offline`: the connection dropped or failed; edits are kept and sent
 *   after reconnecting, which happens on its own (backoff with jitter).
 * - `denied`: the server closed the connection for good (`detail.code` is one
 *   of {@link DENIED_CODES}, `detail.name` its `CloseCode` name); no more attempts.
 */

/**
 * @typedef {object} CloseDetail why the server closed the connection for good
 * @property {number} code the close code
 * @property {string} name its name in `collab.close_codes.CloseCode`, e.g. `DOCUMENT_DELETED`
 * @property {string} reason the close frame's reason (often empty)
 */

/**
 * @typedef {object} ClientOptions
 * @property {string} key document key: the last segment of the websocket URL
 * @property {string} [url] websocket base URL; default: this page's server + `/ws/collab`
 * @property {{name: string, color: string}} [user] shown to the other users (cursors,
 *   presence); `color` is `#rgb` or `#rrggbb` (anything else shows as a neutral grey)
 * @property {boolean} [readOnly] this user may only read; default false (the server may still say so)
 * @property {boolean} [connect] connect at once; default true (else call `connect()`)
 * @property {import('./backoff.js').BackoffOptions} [backoff] reconnection delays
 * @property {typeof WebSocket} [WebSocketPolyfill] a WebSocket implementation (Node, tests)
 */

/**
 * A collaborative document: `doc` (a `Y.Doc`), kept in sync with the server
 * through `provider` (a y-websocket `WebsocketProvider`), and `awareness`.
 *
 * Events (`client.on(name, handler)`):
 * - `status` `(status, detail)`: see {@link Status}; `detail` is
 *   `{code, name, reason}` of the server's close for `denied`, else undefined.
 * - `unsynced` `(hasUnsyncedChanges)`: the flag changed.
 * - `storage` `(storageFailing)`: the server started or stopped saying that it
 *   cannot store the document's edits (its presence state `{collab: {storage: 'failing'}}`).
 *
 * @extends {ObservableV2<{status: (status: Status, detail?: CloseDetail) => void, unsynced: (flag: boolean) => void, storage: (failing: boolean) => void}>}
 */
export class CollabClient extends ObservableV2 {
  /**
   * @param {ClientOptions} options
   */
  constructor ({ key, url, user, readOnly = false, connect = true, backoff, WebSocketPolyfill } = /** @type {any} */ ({})) {
    super()
    if (!key) throw new TypeError('CollabClient: options.key is required')
    this.key = key
    this.doc = new Y.Doc()
    /** Whether local changes stay local: told by the page or by the server. */
    this.readOnly = readOnly
    /** @type {Status} */
    this.status = 'connecting'
    /** Local changes exist that have not left this browser for the server yet. */
    this.hasUnsyncedChanges = false
    this.destroyed = false
    this._backoff = backoff
    this._attempts = 0
    this._lost = false
    /** @type {CloseDetail | null} */
    this._denied = null
    this._retryTimer = null
    this._flushTimer = null
    this.provider = new WebsocketProvider(url || defaultServerUrl(), key, this.doc, {
      connect: false,
      // Cross-tab sharing would bypass the server and its permission checks.
      disableBc: true,
      // Every close the server or network causes ends in `closed`, where this
      // client decides between `denied` and its own jittered backoff.
      shouldReconnect: () => false,
      ...(WebSocketPolyfill ? { WebSocketPolyfill } : {})
    })
    this.awareness = this.provider.awareness
    this._stopGuard = guardRemoteStates(this.awareness)
    /** The server says it cannot store this document's edits right now. */
    this.storageFailing = false
    this._onAwarenessChange = () => {
      const failing = storageFailing(this.awareness)
      if (failing === this.storageFailing) return
      this.storageFailing = failing
      this.emit('storage', [failing])
    }
    this.awareness.on('change', this._onAwarenessChange)
    const safe = safeUser(user)
    // y-codemirror.next paints selections in `colorLight`.
    if (safe) this.awareness.setLocalStateField('user', safe)
    this.provider.messageHandlers[messageAuth] = (_encoder, decoder) => {
      authProtocol.readAuthMessage(decoder, this.doc, (_doc, reason) => this._onPermissionDenied(reason))
    }
    this._handlers = {
      status: ({ status }) => {
        if (status === 'connected') this._lost = false
        this._update()
      },
      sync: (synced) => {
        if (synced) this._attempts = 0
        this._update()
        this._checkFlushed()
      },
      'connection-close': () => {
        this._lost = true
        this._update()
      },
      closed: (detail) => this._onClosed(detail)
    }
    Object.entries(this._handlers).forEach(([name, handler]) => this.provider.on(name, handler))
    this._onDocUpdate = (_update, origin) => {
      if (origin === this.provider) return
      this._setUnsynced(true)
      this._checkFlushed()
    }
    this.doc.on('update', this._onDocUpdate)
    this._onOffline = () => this.disconnect()
    this._onOnline = () => this.connect()
    globalThis.addEventListener?.('offline', this._onOffline)
    globalThis.addEventListener?.('online', this._onOnline)
    if (connect) this.connect()
  }

  /** Why the server closed the connection for good (status `denied`), else null. */
  get closeDetail () {
    return this._denied
  }

  /** Whether the document holds the server's state right now. */
  get synced () {
    return this.provider.synced
  }

  /** Connect (again) now, unless access was denied. */
  connect () {
    if (this.destroyed || this._denied) return
    clearTimeout(this._retryTimer)
    this._retryTimer = null
    this._attempts = 0
    this.provider.connect()
  }

  /** Close the connection without reconnecting (status `offline`) until `connect()`. */
  disconnect () {
    clearTimeout(this._retryTimer)
    this._retryTimer = null
    this._lost = true
    this.provider.disconnect()
    this._update()
  }

  /** Disconnect for good, remove this user's presence, and free the document. */
  destroy () {
    if (this.destroyed) return
    this.destroyed = true
    clearTimeout(this._retryTimer)
    clearTimeout(this._flushTimer)
    globalThis.removeEventListener?.('offline', this._onOffline)
    globalThis.removeEventListener?.('online', this._onOnline)
    Object.entries(this._handlers).forEach(([name, handler]) => this.provider.off(name, handler))
    this.doc.off('update', this._onDocUpdate)
    this._stopGuard()
    this.awareness.off('change', this._onAwarenessChange)
    this.provider.destroy()
    this.doc.destroy()
    super.destroy()
  }

  /** @param {string} reason */
  _onPermissionDenied (reason) {
    if (reason.startsWith(READ_ONLY_REASON)) {
      this.readOnly = true
      this._update()
    } else {
      console.warn(`collab: permission denied for ${this.key}: ${reason}`)
    }
  }

  /** @param {{code: number, reason: string}} event */
  _onClosed ({ code, reason }) {
    if (DENIED_CODES.includes(code)) {
      this._denied = { code, name: PERMANENT_CLOSE_CODES[code], reason }
      this._update(this._denied)
      return
    }
    const delay = reconnectDelay(this._attempts++, this._backoff)
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null
      this.provider.connect()
    }, delay)
  }

  /** @return {Status} */
  _currentStatus () {
    const provider = this.provider
    if (this._denied) return 'denied'
    if (provider.wsconnected) {
      if (!provider.synced) return 'connected'
      return this.readOnly ? 'read-only' : 'synced'
    }
    return this._lost ? 'offline' : 'connecting'
  }

  /** @param {CloseDetail} [detail] */
  _update (detail) {
    const status = this._currentStatus()
    if (status === this.status) return
    this.status = status
    this.emit('status', [status, detail])
  }

  /** @param {boolean} flag */
  _setUnsynced (flag) {
    if (flag === this.hasUnsyncedChanges) return
    this.hasUnsyncedChanges = flag
    this.emit('unsynced', [flag])
  }

  /**
   * Clear the unsynced flag once the document is synced and the socket's
   * send buffer is empty; while connected, look again shortly. (Offline, the
   * next sync triggers the check: reconnecting sends what the server lacks.)
   */
  _checkFlushed () {
    if (!this.hasUnsyncedChanges || this._flushTimer !== null) return
    const { ws, synced } = this.provider
    if (!synced || !ws) return
    if (ws.bufferedAmount === 0) {
      this._setUnsynced(false)
      return
    }
    this._flushTimer = setTimeout(() => {
      this._flushTimer = null
      this._checkFlushed()
    }, FLUSH_CHECK_INTERVAL)
  }
}
