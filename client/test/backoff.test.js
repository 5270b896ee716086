import { test } from 'node:test'
import assert from 'node:assert/strict'
import { reconnectDelay } from '../src/backoff.js'

test('reconnectDelay doubles its ceiling per attempt up to max, half of it random', () => {
  const options = { initial: 100, max: 1000 }
  assert.deepEqual([0, 1, 2, 3, 4, 10].map((n) => reconnectDelay(n, options, () => 0)), [50, 100, 200, 400, 500, 500])
  assert.deepEqual([0, 1, 2, 3, 4, 10].map((n) => reconnectDelay(n, options, () => 0.999999)).map(Math.round), [100, 200, 400, 800, 1000, 1000])
})

test('reconnectDelay jitters: the same attempt gives spread-out delays', () => {
  const delays = new Set(Array.from({ length: 50 }, () => reconnectDelay(3)))
  assert.ok(delays.size > 40)
  for (const delay of delays) assert.ok(delay >= 2000 && delay <= 4000, delay)
})
