/**
 * Reconnection delays: exponential backoff with jitter, so that clients
 * dropped together by a restarting server do not all come back at once.
 *
 * @module backoff
 */

/**
 * @typedef {object} BackoffOptions
 * @property {number} [initial] delay ceiling of the first retry, in ms (default 500)
 * @property {number} [max] the ceiling never grows beyond this, in ms (default 30000)
 */

export const DEFAULT_BACKOFF = Object.freeze({ initial: 500, max: 30000 })

/**
 * The delay before retry number `attempt` (0 for the first retry): the
 * ceiling `initial * 2^attempt`, capped at `max`, of which half is fixed and
 * half random ("equal jitter").
 *
 * @param {number} attempt
 * @param {BackoffOptions} [options]
 * @param {() => number} [random] a number in [0, 1); `Math.random` by default
 * @return {number} milliseconds
 */
export const reconnectDelay = (attempt, { initial = DEFAULT_BACKOFF.initial, max = DEFAULT_BACKOFF.max } = {}, random = Math.random) => {
  const ceiling = Math.min(max, initial * 2 ** attempt)
  return ceiling / 2 + random() * (ceiling / 2)
}
