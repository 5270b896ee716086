// Stock y-websocket clients in the attacked document: editors typing at random and a
// reader, each showing its presence. They are the victims whose state is checked.

import * as prng from 'lib0/prng'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

import { socketClassWith, headersFor } from '../sockets.mjs'
import { defineRoots, randomEdit } from './edits.mjs'
import { summarise } from './summary.mjs'

/** A `WebsocketProvider` on `key`, editing only if `edits`, with a presence state. */
export class Watcher {
  constructor ({ name, url, key, cookie, origin, clientID, edits, seed }) {
    this.name = name
    this.edits = edits
    this.gen = prng.create(seed)
    this.doc = new Y.Doc()
    this.doc.clientID = clientID
    defineRoots(this.doc)
    this.provider = new WebsocketProvider(url, key, this.doc, {
      disableBc: true, // clients in one Node process would otherwise sync through BroadcastChannel
      WebSocketPolyfill: socketClassWith(headersFor({ cookie, origin }))
    })
    this.presence = { user: { name, color: '#2a7ae2' } }
    this.provider.awareness.setLocalState(this.presence)
    this.closeCodes = []
    this.editErrors = []
    this.editCount = 0
    this.provider.on('connection-close', (event) => this.closeCodes.push(event ? event.code : null))
  }

  get clientID () {
    return this.doc.clientID
  }

  get synced () {
    return this.provider.wsconnected && this.provider.synced
  }

  /** Make one random edit (editors only); an edit the document's shape refuses is noted. */
  edit () {
    if (!this.edits || !this.synced) return
    try {
      randomEdit(this.gen, this.doc)
      this.editCount++
    } catch (error) {
      this.editErrors.push(String(error))
    }
  }

  /** Awareness states this client knows, by client id. */
  awarenessStates () {
    return Object.fromEntries([...this.provider.awareness.getStates()].map(([id, state]) => [id, state]))
  }

  report () {
    return {
      name: this.name,
      clientID: this.clientID,
      synced: this.synced,
      closeCodes: [...this.closeCodes], // a copy: destroy() adds the null of its own close
      edits: this.editCount,
      editErrors: this.editErrors.slice(0, 5),
      awareness: this.awarenessStates(),
      summary: summarise(this.doc)
    }
  }

  destroy () {
    this.provider.destroy()
    this.doc.destroy()
  }
}
