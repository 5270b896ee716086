/**
 * Which link and image URLs the editors keep: the same rule as the server's
 * `collab.html.safe_url`, from the same list of schemes.
 *
 * @module urls
 */

import { IGNORED_IN_SCHEME, SAFE_URL_SCHEMES } from './server-constants.js'

/** A URL scheme as browsers and Python's `urlsplit` read it: a letter, then letters, digits, `+`, `-`, `.`. */
const SCHEME = /^([a-z][a-z0-9+.-]*):/i

/**
 * `url` if its scheme is harmless in an `href` or `src` (`https:`, `mailto:`, a
 * relative URL, ...), else null (`javascript:` however it is spelled).
 *
 * @param {unknown} url
 * @return {string|null}
 */
export const safeUrl = (url) => {
  if (typeof url !== 'string') return null
  const scheme = SCHEME.exec(url.replace(IGNORED_IN_SCHEME, ''))
  return SAFE_URL_SCHEMES.includes(scheme ? scheme[1].toLowerCase() : '') ? url : null
}
