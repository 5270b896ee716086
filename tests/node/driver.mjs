// Drives several stock Yjs clients (y-websocket's WebsocketProvider on `ws`) and raw
// `ws` sockets for tests/e2e. One JSON request per stdin line,
// {"id": 1, "command": "open", ...arguments}, is answered by one stdout line,
// {"id": 1, "result": ...} or {"id": 1, "error": "..."}. Every command returns at once;
// the Python side polls `inspect` / `rawInspect` until what it waits for happens.

import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { createInterface } from 'node:readline'
import WebSocket from 'ws'
import { WebsocketProvider, messageAuth } from 'y-websocket'
import { WebsocketProvider as WebsocketProvider2 } from 'y-websocket-2'
import * as Y from 'yjs'

import { headersFor, socketClassWith } from './sockets.mjs'

const clients = new Map()
const rawSockets = new Map()
const hocuspocusSockets = new Map()

// stdout carries replies only; anything a library logs goes to stderr.
console.log = console.error

const lookUp = (sockets, name) => {
  const found = sockets.get(name)
  if (found === undefined) throw new Error(`no client named ${name}`)
  return found
}

// y-websocket reports a permission-denied (type 2) message with console.warn only;
// wrap this provider's handler to record the reason per client instead.
const recordDenials = (provider, denials) => {
  const handle = provider.messageHandlers[messageAuth]
  provider.messageHandlers[messageAuth] = (...args) => {
    const warn = console.warn
    console.warn = (message) => denials.push(message)
    try {
      handle(...args)
    } finally {
      console.warn = warn
    }
  }
}

// The provider each `open` may ask for: y-websocket 3.x stops for good on 44xx close
// codes; 2.x (like 1.x and @y/websocket 4) reconnects whatever the code.
const providers = { 'y-websocket': WebsocketProvider, 'y-websocket-2': WebsocketProvider2 }

const commands = {
  open ({ name, url, key, cookie, origin, params = {}, library = 'y-websocket' }) {
    const Provider = providers[library]
    if (Provider === undefined) throw new Error(`unknown provider library ${library}`)
    const doc = new Y.Doc()
    const provider = new Provider(url, key, doc, {
      connect: false,
      disableBc: true, // Node has BroadcastChannel: clients in one process would sync through it
      params, // the URL's query parameters (a collab token)
      WebSocketPolyfill: socketClassWith(headersFor({ cookie, origin }))
    })
    const client = { doc, provider, statuses: [], closeCodes: [], denials: [] }
    provider.on('status', ({ status }) => client.statuses.push(status))
    provider.on('connection-close', (event) => client.closeCodes.push(event ? event.code : null))
    recordDenials(provider, client.denials)
    clients.set(name, client)
    provider.connect()
    return { clientId: doc.clientID }
  },

  inspect ({ name }) {
    const { doc, provider, statuses, closeCodes, denials, hocuspocus } = lookUp(clients, name)
    return {
      synced: provider.synced,
      text: doc.getText('content').toString(),
      awareness: [...provider.awareness.getStates()],
      statuses,
      closeCodes,
      denials,
      ...(hocuspocus ? { ...hocuspocus, unsyncedChanges: provider.unsyncedChanges } : {})
    }
  },

  // One Hocuspocus socket, which `hocuspocusOpen` attaches documents to.
  hocuspocusSocket ({ name, url, cookie, origin }) {
    const socket = new HocuspocusProviderWebsocket({
      url,
      WebSocketPolyfill: socketClassWith(headersFor({ cookie, origin }))
    })
    const record = { socket, closeCodes: [] }
    socket.on('close', ({ event }) => record.closeCodes.push(event.code))
    hocuspocusSockets.set(name, record)
  },

  hocuspocusSocketInspect ({ name }) {
    const { socket, closeCodes } = lookUp(hocuspocusSockets, name)
    return { status: socket.status, closeCodes }
  },

  // A HocuspocusProvider (as Tiptap uses) of document `key` on socket `socket`.
  hocuspocusOpen ({ name, socket, key, token = '' }) {
    const doc = new Y.Doc()
    const hocuspocus = { scopes: [], denials: [], stateless: [], closes: [] }
    const provider = new HocuspocusProvider({
      websocketProvider: lookUp(hocuspocusSockets, socket).socket,
      name: key,
      document: doc,
      token,
      onAuthenticated: ({ scope }) => hocuspocus.scopes.push(scope),
      onAuthenticationFailed: ({ reason }) => hocuspocus.denials.push(reason),
      onStateless: ({ payload }) => hocuspocus.stateless.push(payload),
      onClose: ({ event }) => hocuspocus.closes.push([event.code, event.reason])
    })
    provider.attach() // a provider on a shared socket attaches explicitly
    clients.set(name, { doc, provider, statuses: [], closeCodes: [], denials: [], hocuspocus })
    return { clientId: doc.clientID }
  },

  sendStateless ({ name, payload }) {
    lookUp(clients, name).provider.sendStateless(payload)
  },

  // The length alone, for documents too large to poll as text.
  length ({ name }) {
    return { length: lookUp(clients, name).doc.getText('content').length }
  },

  insert ({ name, index, text }) {
    const content = lookUp(clients, name).doc.getText('content')
    content.insert(Math.min(index, content.length), text)
    return { length: content.length }
  },

  // `count` edits in a burst: one transaction (and so one update frame) per character.
  insertMany ({ name, text, count }) {
    const content = lookUp(clients, name).doc.getText('content')
    for (let edit = 0; edit < count; edit++) content.insert(content.length, text)
    return { length: content.length }
  },

  delete ({ name, index, length }) {
    const content = lookUp(clients, name).doc.getText('content')
    content.delete(index, length)
    return { length: content.length }
  },

  setAwareness ({ name, state }) {
    lookUp(clients, name).provider.awareness.setLocalState(state)
  },

  close ({ name }) {
    lookUp(clients, name).provider.destroy()
  },

  // Cut the TCP connection without a close frame, as a crashed browser or lost network would.
  drop ({ name }) {
    const { provider } = lookUp(clients, name)
    if (provider.ws === null) throw new Error(`${name} has no open socket`)
    provider.shouldConnect = false
    provider.ws._socket.destroy()
  },

  rawOpen ({ name, url, cookie, origin }) {
    const socket = new WebSocket(url, { headers: headersFor({ cookie, origin }) })
    const raw = { socket, opened: false, received: 0, closeCode: null, error: null }
    socket.on('open', () => { raw.opened = true })
    socket.on('message', () => { raw.received += 1 })
    socket.on('close', (code) => { raw.closeCode = code })
    socket.on('error', (error) => { raw.error = error.message })
    rawSockets.set(name, raw)
  },

  // `text` sends a text frame; otherwise `binary` (base64) is sent as one binary frame.
  rawSend ({ name, binary, text }) {
    lookUp(rawSockets, name).socket.send(text ?? Buffer.from(binary, 'base64'))
  },

  // Stop (or go on) reading from the TCP socket, as a stalled client would.
  rawPause ({ name }) {
    lookUp(rawSockets, name).socket._socket.pause()
  },

  rawResume ({ name }) {
    lookUp(rawSockets, name).socket._socket.resume()
  },

  rawInspect ({ name }) {
    const { opened, received, closeCode, error } = lookUp(rawSockets, name)
    return { opened, received, closeCode, error }
  }
}

const reply = (message) => process.stdout.write(JSON.stringify(message) + '\n')

for await (const line of createInterface({ input: process.stdin })) {
  const { id, command, ...args } = JSON.parse(line)
  try {
    if (!Object.hasOwn(commands, command)) throw new Error(`unknown command ${command}`)
    reply({ id, result: commands[command](args) ?? null })
  } catch (error) {
    reply({ id, error: error.stack ?? String(error) })
  }
}
process.exit(0)
