// A raw websocket that sends one hostile frame at a time and learns whether the server
// dealt with it: each frame is followed by a sync step 1 (the probe), and the frame is
// done when the server's step 2 answer arrives or the socket closes. A sync step 1 is its
// own probe: the server answers only the latest of the step 1s over its budget.

import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import WebSocket from 'ws'
import * as Y from 'yjs'

import { headersFor } from '../sockets.mjs'
import { MESSAGE_AWARENESS, MESSAGE_SYNC, readSyncFrame, step1Frame } from './frames.mjs'

const CONNECT_TIMEOUT = 10000

/**
 * One attacking connection (re-opened after every close). Its mirror `Y.Doc` keeps what
 * the server sent, so the probe's state vector is current and its answer small; a stock
 * decoder failing on what the server sent is reported through `onDecodeError`.
 */
export class Attacker {
  constructor ({ name, url, cookie, origin, answerTimeout, onDecodeError }) {
    this.name = name
    this.url = url
    this.headers = headersFor({ cookie, origin })
    this.answerTimeout = answerTimeout
    this.onDecodeError = onDecodeError
    this.mirror = new Y.Doc()
    this.awareness = new awarenessProtocol.Awareness(this.mirror)
    this.awareness.setLocalState(null)
    this.socket = null
    this.connections = 0
  }

  get open () {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN
  }

  /** Open a new socket; resolve to null once open, or to the close code if it never opened. */
  connect () {
    const socket = new WebSocket(this.url, { headers: this.headers })
    this.socket = socket
    this.connections++
    this.answers = 0
    this.closeCode = null
    this.waiter = null
    socket.binaryType = 'arraybuffer'
    socket.on('message', (data) => this._received(new Uint8Array(data)))
    socket.on('error', () => {}) // the close that follows says what happened
    socket.on('close', (code) => {
      this.closeCode = code
      this._wake()
    })
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(-1), CONNECT_TIMEOUT)
      socket.once('open', () => { clearTimeout(timer); resolve(null) })
      socket.once('close', (code) => { clearTimeout(timer); resolve(code) })
    })
  }

  /**
   * Send `frame`, then the probe unless `frame` is a sync step 1; resolve to
   * `{ closeCode, answered }` once the server answered (closeCode null), closed the
   * socket, or `answerTimeout` passed (answered false, closeCode null: the server
   * stopped answering).
   */
  send (frame) {
    const sync = readSyncFrame(frame)
    const expected = this.answers + 1
    this.socket.send(frame)
    const probed = sync !== null && sync.subtype === 0
    if (!probed && this.open) this.socket.send(step1Frame(Y.encodeStateVector(this.mirror)))
    return new Promise((resolve) => {
      const settle = () => {
        if (this.closeCode !== null) return { closeCode: this.closeCode, answered: true }
        if (this.answers >= expected) return { closeCode: null, answered: true }
        return null
      }
      const timer = setTimeout(() => { this.waiter = null; resolve({ closeCode: null, answered: false }) }, this.answerTimeout)
      this.waiter = () => {
        const outcome = settle()
        if (outcome !== null) {
          clearTimeout(timer)
          this.waiter = null
          resolve(outcome)
        }
      }
      this.waiter()
    })
  }

  /** Close the socket from this side and wait until it is closed. */
  close () {
    if (this.socket === null || this.socket.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve())
      this.socket.close(1000)
    })
  }

  _wake () {
    if (this.waiter !== null) this.waiter()
  }

  _received (frame) {
    try {
      const decoder = decoding.createDecoder(frame)
      const type = decoding.readVarUint(decoder)
      if (type === MESSAGE_SYNC) {
        if (decoding.peekVarUint(decoder) === syncProtocol.messageYjsSyncStep2) {
          // The answer to this attacker's own sync step 1, whose state vector may be a
          // forgery (a clock inside a surrogate pair gets a diff only the asker cannot
          // use): counted, not decoded. What the server relays from others is decoded.
          this.answers++
        } else {
          syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), this.mirror, 'server')
        }
      } else if (type === MESSAGE_AWARENESS) {
        awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(decoder), 'server')
      }
    } catch (error) {
      this.onDecodeError(this.name, error, frame)
    }
    this._wake()
  }
}
