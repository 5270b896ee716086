/**
 * Helpers around a y-websocket `WebsocketProvider`: the default server URL
 * and one simple connection status.
 *
 * @module connection
 */

/** Path of the collab websocket routes on the Django server. */
export const DEFAULT_PATH = '/ws/collab'

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
 * @typedef {'connecting'|'connected'|'synced'|'offline'} Status
 * `connecting`: first attempt to open the socket; `connected`: socket open,
 * initial sync not finished; `synced`: the local document has the server's
 * state; `offline`: the connection failed or dropped. The provider keeps
 * retrying in the background (the status stays `offline` during retries),
 * unless the server closed with a 44xx code, see `detail` below.
 */

/**
 * @param {import('y-websocket').WebsocketProvider} provider
 * @return {Status}
 */
const providerStatus = (provider) => {
  if (provider.wsconnected) return provider.synced ? 'synced' : 'connected'
  return provider.wsconnecting ? 'connecting' : 'offline'
}

/**
 * Call `callback(status, detail)` now and whenever the provider's status
 * changes. `detail` is `{code, reason}` when the server closed the connection
 * for good (close codes 4400-4499, e.g. 4401 not authenticated, 4403 forbidden).
 *
 * @param {import('y-websocket').WebsocketProvider} provider
 * @param {(status: Status, detail?: {code: number, reason: string}) => void} callback
 * @return {() => void} stops watching
 */
export const watchStatus = (provider, callback) => {
  let current = providerStatus(provider)
  // Set when a connection dropped or an attempt failed, cleared on connect:
  // retries then show as `offline`, not as a flicker of `connecting`.
  let lost = false
  const set = (status, detail) => {
    if (status === current && !detail) return
    current = status
    callback(status, detail)
  }
  // `status` reports 'disconnected' only for sockets that had opened, and
  // after `connection-close`, which covers every closed socket.
  const onStatus = ({ status }) => {
    if (status === 'connected') {
      lost = false
      set(provider.synced ? 'synced' : 'connected')
    } else if (status === 'connecting' && !lost) {
      set('connecting')
    }
  }
  const onSync = (synced) => {
    if (provider.wsconnected) set(synced ? 'synced' : 'connected')
  }
  const onConnectionClose = () => {
    lost = true
    set('offline')
  }
  const onClosed = (detail) => {
    lost = true
    set('offline', detail)
  }
  const handlers = { status: onStatus, sync: onSync, 'connection-close': onConnectionClose, closed: onClosed }
  Object.entries(handlers).forEach(([name, handler]) => provider.on(name, handler))
  callback(current)
  return () => Object.entries(handlers).forEach(([name, handler]) => provider.off(name, handler))
}
