import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { isNewDocument, seedClientId, seedDocument } from '../src/seed.js'

const seedText = (doc, text) => seedDocument(doc, `plain\n${text}`, (scratch) => scratch.getText('content').insert(0, text))
const sync = (a, b) => {
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
}

test('two users seeding a fresh document at once get the content once', () => {
  const alice = new Y.Doc()
  const bob = new Y.Doc()
  assert.equal(seedText(alice, 'Hello, world'), true)
  assert.equal(seedText(bob, 'Hello, world'), true)
  alice.getText('content').insert(12, '!')
  sync(alice, bob)
  assert.equal(alice.getText('content').toString(), 'Hello, world!')
  assert.equal(bob.getText('content').toString(), 'Hello, world!')
})

test('a document that has content, or had and lost it, is not seeded', () => {
  const doc = new Y.Doc()
  doc.getText('content').insert(0, 'x')
  doc.getText('content').delete(0, 1)
  assert.equal(isNewDocument(doc), false)
  assert.equal(seedText(doc, 'seed'), false)
  assert.equal(doc.getText('content').toString(), '')
})

test('different seeds use different client ids, so both survive instead of clashing', () => {
  assert.notEqual(seedClientId('plain\nold'), seedClientId('plain\nnew'))
  const alice = new Y.Doc()
  const bob = new Y.Doc()
  seedText(alice, 'old')
  seedText(bob, 'new')
  sync(alice, bob)
  assert.equal(alice.getText('content').toString(), bob.getText('content').toString())
  assert.equal(alice.getText('content').length, 6)
})
