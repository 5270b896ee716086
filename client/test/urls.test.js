import { test } from 'node:test'
import assert from 'node:assert/strict'
import { safeUrl } from '../src/urls.js'

// The cases of the server's tests of collab.html.safe_url (tests/test_exports.py), and more.
const KEPT = [
  'https://example.com/', 'http://example.com/', '/relative/path', '#anchor', '?q=1', 'page.html',
  'mailto:someone@example.com', 'tel:+1234', 'HTTPS://EXAMPLE.COM/', 'javascript&colon;alert(1)'
]
const DROPPED = [
  'javascript:alert(1)', 'JaVaScRiPt:alert(1)', '\x01javascript:alert(1)', ' java\tscript:alert(1)',
  'java\nscript:alert(1)', 'javascript\x00:alert(1)', 'data:text/html,<script>', 'vbscript:msgbox',
  'blob:https://example.com/x', 'file:///etc/passwd'
]

test('harmless URLs are kept as they are', () => {
  for (const url of KEPT) assert.equal(safeUrl(url), url, url)
})

test('script and other schemes are dropped however they are spelled', () => {
  for (const url of DROPPED) assert.equal(safeUrl(url), null, JSON.stringify(url))
})

test('what is not a string is dropped', () => {
  for (const value of [null, undefined, 1, {}, ['https://example.com/']]) assert.equal(safeUrl(value), null)
})
