import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PERMANENT_CLOSE_CODES } from '../src/server-constants.js'
import { DENIED_LABELS, STATUS_LABELS, STORAGE_FAILING_LABEL, statusLabel } from '../src/status.js'

test('every permanent close code says why the editor stopped', () => {
  assert.deepEqual(Object.keys(DENIED_LABELS).sort(), Object.values(PERMANENT_CLOSE_CODES).sort())
  assert.equal(statusLabel('denied', { detail: { code: 4410, name: 'DOCUMENT_DELETED', reason: '' } }), 'This document was deleted (4410)')
  assert.equal(statusLabel('denied', { unsynced: true, detail: { code: 4403, name: 'FORBIDDEN', reason: '' } }), 'No access to this document (4403)')
})

test('a permanent code without a sentence of its own still says the server stopped it', () => {
  assert.equal(statusLabel('denied', { detail: { code: 4499, name: undefined, reason: '' } }), `${STATUS_LABELS.denied} (4499)`)
})

test('synced with changes on their way says so', () => {
  assert.equal(statusLabel('synced'), 'Synced')
  assert.equal(statusLabel('synced', { unsynced: true }), 'Sending changes…')
  assert.equal(statusLabel('offline', { unsynced: true }), STATUS_LABELS.offline)
})

test('synced while the server cannot store never says Synced', () => {
  assert.equal(statusLabel('synced', { storageFailing: true }), STORAGE_FAILING_LABEL)
  assert.equal(statusLabel('synced', { storageFailing: true, unsynced: true }), STORAGE_FAILING_LABEL)
  assert.doesNotMatch(STORAGE_FAILING_LABEL, /^Synced/)
})
