// A WebSocket stand-in for y-websocket in Node: tests play the server by
// calling open(), receive() and serverClose() on the sockets it created.
import * as encoding from 'lib0/encoding'

export class FakeWebSocket {
  static OPEN = 1
  /** @type {FakeWebSocket[]} every socket created, newest last */
  static sockets = []

  constructor (url) {
    this.url = url
    this.OPEN = 1
    this.readyState = 0
    this.bufferedAmount = 0
    this.sent = []
    FakeWebSocket.sockets.push(this)
  }

  static get last () { return FakeWebSocket.sockets[FakeWebSocket.sockets.length - 1] }

  send (data) { this.sent.push(data) }

  close () { this.readyState = 3 }

  open () {
    this.readyState = 1
    this.onopen()
  }

  receive (bytes) { this.onmessage({ data: bytes.buffer }) }

  serverClose (code, reason = '') {
    this.readyState = 3
    this.onclose({ code, reason })
  }
}

/** The frame the collab server sends read-only connections (type 2 auth, permission denied). */
export const readOnlyFrame = () => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 2)
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarString(encoder, 'read-only: your changes are not saved or shared')
  return encoding.toUint8Array(encoder)
}

/** A sync step 2 frame carrying an empty update (what the server answers for an empty document). */
export const syncStep2Frame = () => new Uint8Array([0, 1, 2, 0, 0])
