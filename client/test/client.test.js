import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { CollabClient, DENIED_CODES, defaultServerUrl } from '../src/client.js'
import { PERMANENT_CLOSE_CODES } from '../src/server-constants.js'
import * as encoding from 'lib0/encoding'
import { FakeWebSocket, readOnlyFrame, syncStep2Frame } from './fake-websocket.js'

/** A client on a fake server, destroyed when test `t` ends (pass or fail). */
const open = (t, options = {}) => {
  const client = new CollabClient({ key: 'notes', url: 'ws://server/ws/collab', WebSocketPolyfill: FakeWebSocket, ...options })
  t.after(() => client.destroy())
  const seen = []
  client.on('status', (status, detail) => seen.push(detail ? `${status} ${detail.code}` : status))
  return { client, seen }
}

test('defaultServerUrl follows the page scheme and host', () => {
  assert.equal(defaultServerUrl({ protocol: 'http:', host: 'localhost:8000' }), 'ws://localhost:8000/ws/collab')
  assert.equal(defaultServerUrl({ protocol: 'https:', host: 'example.com' }), 'wss://example.com/ws/collab')
})

test('connecting, connected, synced; the URL ends in the key; the user is in awareness', (t) => {
  const { client, seen } = open(t, { user: { name: 'Alice', color: '#aa3355' } })
  assert.equal(client.status, 'connecting')
  assert.equal(FakeWebSocket.last.url, 'ws://server/ws/collab/notes')
  FakeWebSocket.last.open()
  FakeWebSocket.last.receive(syncStep2Frame())
  assert.deepEqual(seen, ['connected', 'synced'])
  assert.deepEqual(client.awareness.getLocalState().user, { name: 'Alice', color: '#aa3355', colorLight: '#aa335533' })
})

test('the server\'s read-only message turns synced into read-only', (t) => {
  const { client, seen } = open(t)
  FakeWebSocket.last.open()
  FakeWebSocket.last.receive(readOnlyFrame())
  FakeWebSocket.last.receive(syncStep2Frame())
  assert.equal(client.readOnly, true)
  assert.deepEqual(seen, ['connected', 'read-only'])
})

test('every permanent close code ends in denied, named, with no further attempt', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  assert.deepEqual(DENIED_CODES, [4400, 4401, 4403, 4404, 4409, 4410, 4412, 4413, 4415, 4422])
  for (const code of DENIED_CODES) {
    const { client, seen } = open(t)
    const details = []
    client.on('status', (_status, detail) => details.push(detail))
    const socket = FakeWebSocket.last
    socket.open()
    socket.serverClose(code, 'no')
    t.mock.timers.tick(120000)
    client.connect()
    assert.equal(FakeWebSocket.last, socket)
    assert.deepEqual(seen, ['connected', 'offline', `denied ${code}`])
    assert.deepEqual(details.at(-1), { code, name: PERMANENT_CLOSE_CODES[code], reason: 'no' })
  }
})

test('codes outside 4400-4499 are not permanent: the client comes back', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  for (const code of [1006, 4000, 4399, 4500, 4503, 4504]) {
    const { seen } = open(t)
    const socket = FakeWebSocket.last
    socket.open()
    socket.serverClose(code)
    t.mock.timers.tick(120000)
    assert.notEqual(FakeWebSocket.last, socket, `a retry after ${code}`)
    assert.deepEqual(seen, ['connected', 'offline'])
  }
})

test('transient closes reconnect with growing, jittered delays until synced', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const random = mock.method(Math, 'random', () => 0.5)
  const { client, seen } = open(t, { backoff: { initial: 1000, max: 4000 } })
  FakeWebSocket.last.open()
  FakeWebSocket.last.serverClose(4503)
  const retryAfter = (ms) => {
    const before = FakeWebSocket.last
    t.mock.timers.tick(ms - 1)
    assert.equal(FakeWebSocket.last, before, `no retry before ${ms} ms`)
    t.mock.timers.tick(1)
    assert.notEqual(FakeWebSocket.last, before, `a retry after ${ms} ms`)
  }
  retryAfter(750) // ceiling 1000: half fixed + 0.5 * half
  FakeWebSocket.last.serverClose(1006) // refused while the server restarts
  retryAfter(1500)
  FakeWebSocket.last.serverClose(4500)
  retryAfter(3000)
  FakeWebSocket.last.open()
  FakeWebSocket.last.receive(syncStep2Frame())
  FakeWebSocket.last.serverClose(4503)
  retryAfter(750) // the sync reset the backoff
  assert.deepEqual(seen, ['connected', 'offline', 'connected', 'synced', 'offline'])
  assert.ok(random.mock.callCount() >= 4)
  random.mock.restore()
})

test('unsynced changes: set by local edits, cleared once sent while synced', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const { client } = open(t)
  const flags = []
  client.on('unsynced', (flag) => flags.push(flag))
  client.doc.getText('content').insert(0, 'offline edit')
  assert.equal(client.hasUnsyncedChanges, true)
  const socket = FakeWebSocket.last
  socket.open()
  socket.bufferedAmount = 10 // the answer to the server's sync step 1 is still being sent
  socket.receive(syncStep2Frame())
  assert.equal(client.hasUnsyncedChanges, true)
  socket.bufferedAmount = 0
  t.mock.timers.tick(50)
  assert.equal(client.hasUnsyncedChanges, false)
  client.doc.getText('content').insert(0, '!')
  assert.deepEqual(flags, [true, false, true, false])
})

test('disconnect goes offline without retrying; destroy stops everything', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const { client, seen } = open(t)
  FakeWebSocket.last.open()
  FakeWebSocket.last.receive(syncStep2Frame())
  const socket = FakeWebSocket.last
  client.disconnect()
  t.mock.timers.tick(60000)
  assert.equal(FakeWebSocket.last, socket)
  client.connect()
  assert.notEqual(FakeWebSocket.last, socket)
  client.destroy()
  assert.equal(client.destroyed, true)
  assert.deepEqual(seen, ['connected', 'synced', 'offline'])
})

/** An awareness frame (type 1) from the server carrying `state` for client `clientId`. */
const serverAwarenessFrame = (clientId, state, clock) => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1)
  const update = encoding.createEncoder()
  encoding.writeVarUint(update, 1)
  encoding.writeVarUint(update, clientId)
  encoding.writeVarUint(update, clock)
  encoding.writeVarString(update, JSON.stringify(state))
  encoding.writeVarUint8Array(encoder, encoding.toUint8Array(update))
  return encoding.toUint8Array(encoder)
}

test('the server\'s storage-failing state sets storageFailing until it is cleared', (t) => {
  const { client } = open(t)
  const events = []
  client.on('storage', (failing) => events.push(failing))
  FakeWebSocket.last.open()
  FakeWebSocket.last.receive(syncStep2Frame())
  FakeWebSocket.last.receive(serverAwarenessFrame(99, { collab: { storage: 'failing' } }, 1))
  assert.equal(client.storageFailing, true)
  FakeWebSocket.last.receive(serverAwarenessFrame(99, { collab: { storage: 'failing' } }, 2))
  FakeWebSocket.last.receive(serverAwarenessFrame(99, null, 3))
  assert.equal(client.storageFailing, false)
  FakeWebSocket.last.receive(serverAwarenessFrame(98, { user: { name: 'x', color: '#fff' } }, 1))
  assert.deepEqual(events, [true, false])
})
