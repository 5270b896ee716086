import { test } from 'node:test'
import assert from 'node:assert/strict'
import { presentUsers } from '../src/presence.js'

test('presentUsers: local user first, then by name; states without a user are skipped', () => {
  const awareness = {
    clientID: 3,
    getStates: () => new Map([
      [1, { user: { name: 'carol', color: '#00f' } }],
      [2, { cursor: 5 }],
      [3, { user: { name: 'bob', color: '#0f0' } }],
      [4, { user: { name: 'alice' } }],
      [5, { user: { name: 42 } }]
    ])
  }
  assert.deepEqual(presentUsers(awareness), [
    { clientId: 3, name: 'bob', color: '#0f0', isLocal: true },
    { clientId: 4, name: 'alice', color: '', isLocal: false },
    { clientId: 1, name: 'carol', color: '#00f', isLocal: false }
  ])
})
