import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import { DEFAULT_COLOR, MAX_NAME_LENGTH, guardRemoteStates, presentUsers, safeUser } from '../src/presence.js'

test('presentUsers: local user first, then by name; states without a valid user are skipped', () => {
  const awareness = {
    clientID: 3,
    getStates: () => new Map([
      [1, { user: { name: 'carol', color: '#00F' } }],
      [2, { cursor: 5 }],
      [3, { user: { name: 'bob', color: '#00ff00' } }],
      [4, { user: { name: 'alice' } }],
      [5, { user: { name: 42 } }],
      [6, { collab: { storage: 'failing' } }]
    ])
  }
  assert.deepEqual(presentUsers(awareness), [
    { clientId: 3, name: 'bob', color: '#00ff00', isLocal: true },
    { clientId: 4, name: 'alice', color: DEFAULT_COLOR, isLocal: false },
    { clientId: 1, name: 'carol', color: '#0000ff', isLocal: false }
  ])
})

test('safeUser: a colour is a colour, a name is a string of bounded length', () => {
  assert.deepEqual(safeUser({ name: 'a', color: '#AbC', extra: '<b>' }), { name: 'a', color: '#aabbcc', colorLight: '#aabbcc33' })
  for (const color of [
    'red', '#12345', '#1234567', 'rgb(0,0,0)', '#fff; position: fixed; inset: 0',
    '#fff" onmouseover="x', 'url(https://evil.example/x)', ' #ffffff', '#ffffff\n', 7, null, { toString: () => '#fff' }
  ]) {
    assert.equal(safeUser({ name: 'a', color }).color, DEFAULT_COLOR, JSON.stringify(color))
  }
  assert.equal(safeUser({ name: 'x'.repeat(500) }).name.length, MAX_NAME_LENGTH)
  for (const user of [undefined, null, 'alice', { name: ['a'] }, { color: '#fff' }]) {
    assert.equal(safeUser(user), null)
  }
})

test('guardRemoteStates: what other clients announce reaches listeners harmless', () => {
  const local = new Awareness(new Y.Doc())
  const remote = new Awareness(new Y.Doc())
  const stop = guardRemoteStates(local)
  const seen = []
  local.on('change', () => seen.push(local.getStates().get(remote.clientID)))
  local.setLocalStateField('user', { name: 'me', color: 'not checked: my own' })

  remote.setLocalState({ user: { name: '<img src=x>', color: 'red;position:fixed', colorLight: 'x' }, cursor: { anchor: 1 } })
  applyAwarenessUpdate(local, encodeAwarenessUpdate(remote, [remote.clientID]), 'test')
  assert.deepEqual(seen.at(-1), {
    user: { name: '<img src=x>', color: DEFAULT_COLOR, colorLight: `${DEFAULT_COLOR}33` }, cursor: { anchor: 1 }
  })

  remote.setLocalState({ collab: { storage: 'failing' }, cursor: { anchor: 1 } })
  applyAwarenessUpdate(local, encodeAwarenessUpdate(remote, [remote.clientID]), 'test')
  assert.deepEqual(seen.at(-1), { collab: { storage: 'failing' } })
  assert.equal(local.getLocalState().user.color, 'not checked: my own')

  stop()
  local.destroy()
  remote.destroy()
})
