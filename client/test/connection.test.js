import { test } from 'node:test'
import assert from 'node:assert/strict'
import { defaultServerUrl, watchStatus } from '../src/connection.js'

test('defaultServerUrl follows the page scheme and host', () => {
  assert.equal(defaultServerUrl({ protocol: 'http:', host: 'localhost:8000' }), 'ws://localhost:8000/ws/collab')
  assert.equal(defaultServerUrl({ protocol: 'https:', host: 'example.com' }), 'wss://example.com/ws/collab')
})

/**
 * The state and events of a y-websocket 3 WebsocketProvider, in the order
 * its source emits them.
 */
class FakeProvider {
  constructor () {
    this.handlers = {}
    this.wsconnected = false
    this.wsconnecting = false
    this.synced = false
  }

  on (name, handler) { (this.handlers[name] ||= new Set()).add(handler) }
  off (name, handler) { this.handlers[name].delete(handler) }
  emit (name, ...args) { (this.handlers[name] || []).forEach((handler) => handler(...args)) }

  startAttempt () {
    this.wsconnecting = true
    this.emit('status', { status: 'connecting' })
  }

  open () {
    this.wsconnecting = false
    this.wsconnected = true
    this.emit('status', { status: 'connected' })
  }

  sync () {
    this.synced = true
    this.emit('sync', true)
  }

  close (code) {
    this.emit('connection-close', { code })
    const wasConnected = this.wsconnected
    this.wsconnecting = this.wsconnected = false
    if (wasConnected) {
      this.synced = false
      this.emit('sync', false)
      this.emit('status', { status: 'disconnected' })
    }
    if (code >= 4400 && code < 4500) this.emit('closed', { code, reason: 'forbidden' })
  }
}

test('watchStatus: connecting, connected, synced, offline during retries, synced again', () => {
  const provider = new FakeProvider()
  provider.startAttempt()
  const seen = []
  const stop = watchStatus(provider, (status, detail) => seen.push(detail ? `${status} ${detail.code}` : status))
  provider.open()
  provider.sync()
  provider.close(1006) // the server went away
  provider.startAttempt()
  provider.close(1006) // refused while it is down
  provider.startAttempt()
  provider.open()
  provider.sync()
  assert.deepEqual(seen, ['connecting', 'connected', 'synced', 'offline', 'connected', 'synced'])
  stop()
  provider.close(1006)
  assert.equal(seen.length, 6)
})

test('watchStatus: a 44xx close is reported with its code', () => {
  const provider = new FakeProvider()
  provider.startAttempt()
  const seen = []
  watchStatus(provider, (status, detail) => seen.push([status, detail]))
  provider.open()
  provider.close(4403)
  assert.deepEqual(seen, [
    ['connecting', undefined],
    ['connected', undefined],
    ['offline', undefined],
    ['offline', { code: 4403, reason: 'forbidden' }]
  ])
})
