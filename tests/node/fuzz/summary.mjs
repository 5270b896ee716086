// A canonical description of a Y.Doc's content, equal for equal documents however their
// items happen to be split, merged or garbage-collected; walked without recursion, so a
// document nested 20,000 levels deep is described too.

import { createHash } from 'node:crypto'
import * as Y from 'yjs'

import { defineRoots } from './edits.mjs'

const PREVIEW_CHARS = 400

/** Objects with their keys sorted: yrs keeps JSON objects in hash maps, so their key
 * order changes whenever the server encodes them. */
const sortedKeys = (key, value) =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : value

const jsonToken = (prefix, value) => {
  try {
    return prefix + JSON.stringify(value, sortedKeys)
  } catch (error) {
    return `${prefix}<${error.name}>` // nested beyond JSON.stringify's stack
  }
}

const contentTokens = (content) => {
  if (content instanceof Y.ContentString) return [`s:${content.str}`]
  if (content instanceof Y.ContentFormat) return [jsonToken(`f:${content.key}=`, content.value)]
  if (content instanceof Y.ContentEmbed) return [jsonToken('e:', content.embed)]
  if (content instanceof Y.ContentBinary) return [`b:${Buffer.from(content.content).toString('base64')}`]
  if (content instanceof Y.ContentDoc) return [`d:${content.doc.guid}`]
  if (content instanceof Y.ContentAny || content instanceof Y.ContentJSON) {
    return content.getContent().map((value) => jsonToken('a:', value))
  }
  return [`?:${content.constructor.name}`]
}

const typeName = (type) =>
  type instanceof Y.XmlElement ? `<${type.nodeName}>` : `<${type.constructor.name}>`

// The entries describing `type`: its open tag, its map entries by key, its list, its close
// tag. Nested types appear as `{ type }`, to be expanded by the caller's loop.
const typeEntries = (type) => {
  const entries = [typeName(type)]
  for (const key of [...type._map.keys()].sort()) {
    const item = type._map.get(key)
    if (item.deleted) continue
    entries.push(`@${key}`)
    entries.push(...itemEntries(item))
  }
  for (let item = type._start; item !== null; item = item.right) {
    if (!item.deleted) entries.push(...itemEntries(item))
  }
  entries.push('</>')
  return entries
}

const itemEntries = (item) =>
  item.content instanceof Y.ContentType ? [{ type: item.content.type }] : contentTokens(item.content)

/** Concatenate consecutive string tokens: "ab" is "ab" however Yjs split its items. */
const joinStrings = (tokens) => {
  const joined = []
  for (const token of tokens) {
    const last = joined.length - 1
    if (token.startsWith('s:') && last >= 0 && joined[last].startsWith('s:')) {
      joined[last] += token.slice(2)
    } else {
      joined.push(token)
    }
  }
  return joined
}

/**
 * Describe `doc`: `{ digest, preview, stateVector, pending, depth }`.
 *
 * `digest` hashes the canonical content of every root type; `pending` says whether the
 * document holds structs or deletions waiting for updates they depend on.
 */
export const summarise = (doc) => {
  defineRoots(doc)
  const tokens = []
  const stack = []
  let depth = 0
  let maxDepth = 0
  for (const name of [...doc.share.keys()].sort().reverse()) stack.push({ type: doc.share.get(name) }, `root:${name}`)
  while (stack.length > 0) {
    const entry = stack.pop()
    if (typeof entry === 'string') {
      tokens.push(entry)
      if (entry === '</>') depth--
      continue
    }
    depth++
    maxDepth = Math.max(maxDepth, depth)
    stack.push(...typeEntries(entry.type).reverse())
  }
  const canonical = joinStrings(tokens).join('\u0000')
  return {
    digest: createHash('sha256').update(canonical).digest('hex'),
    preview: canonical.replaceAll('\u0000', ' ').slice(0, PREVIEW_CHARS),
    stateVector: Object.fromEntries([...Y.decodeStateVector(Y.encodeStateVector(doc))].sort(([a], [b]) => a - b)),
    pending: doc.store.pendingStructs !== null || doc.store.pendingDs !== null,
    depth: maxDepth
  }
}

/**
 * Describe the document that applying `updates` (v1) in order makes, as `summarise` does:
 * `{ summary }`, with `error` too if Yjs refused one of them.
 */
export const summariseUpdates = (updates) => {
  const doc = new Y.Doc()
  defineRoots(doc)
  let error
  try {
    for (const update of updates) Y.applyUpdate(doc, update)
  } catch (failure) {
    error = String(failure.stack ?? failure)
  }
  const summary = summarise(doc)
  doc.destroy()
  return error === undefined ? { summary } : { summary, error }
}
