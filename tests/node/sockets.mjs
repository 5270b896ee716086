// `ws` sockets that send what a browser page would: its Origin and session cookie.

import WebSocket from 'ws'

export const headersFor = ({ cookie, origin }) => ({ Origin: origin, ...(cookie ? { Cookie: cookie } : {}) })

// y-websocket creates sockets with `new WebSocketPolyfill(url, protocols)`: this subclass
// adds the session cookie and origin a browser would send.
export const socketClassWith = (headers) =>
  class extends WebSocket {
    constructor (url, protocols) {
      super(url, protocols, { headers })
    }
  }
