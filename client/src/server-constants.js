// Generated from collab/close_codes.py and collab/html.py by
// `python client/server_constants.py`; do not edit.

/** Close codes after which reconnecting cannot help, by code: the `CloseCode` name. */
export const PERMANENT_CLOSE_CODES = Object.freeze({
  '4400': 'MALFORMED_FRAME',
  '4401': 'NOT_AUTHENTICATED',
  '4403': 'FORBIDDEN',
  '4404': 'NOT_FOUND',
  '4409': 'QUOTA_EXCEEDED',
  '4410': 'DOCUMENT_DELETED',
  '4412': 'UNTRUSTED_ORIGIN',
  '4413': 'FRAME_TOO_LARGE',
  '4415': 'UNSUPPORTED_DATA',
  '4422': 'CONTENT_REFUSED'
})

/** URL schemes a link or image may keep (`''`: a relative URL); anything else is dropped. */
export const SAFE_URL_SCHEMES = Object.freeze(['', 'http', 'https', 'mailto', 'tel'])

/** Characters browsers skip when they read a URL's scheme. */
export const IGNORED_IN_SCHEME = /[\x00-\x20]/g
