// The seed corpus: real frames stock Yjs clients send, captured from scripted and random
// editing sessions of two clients, deterministic for a given seed.

import * as prng from 'lib0/prng'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'

import { defineRoots, randomEdit, ROOTS } from './edits.mjs'
import {
  awarenessStateFrame,
  QUERY_AWARENESS_FRAME,
  step1Frame,
  step2Frame,
  updateFrame
} from './frames.mjs'

const RANDOM_EDITS = 40

const clientDoc = (clientID) => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  defineRoots(doc)
  return doc
}

// Edits that cover what the random ones may miss: deletions of nested content, maps in
// arrays, binary values, attributes on nested elements.
const scriptedSession = (doc) => {
  doc.transact(() => ROOTS.content(doc).insert(0, 'Hello, collaborative world!'), 'content')
  doc.transact(() => ROOTS.content(doc).format(0, 5, { bold: true }), 'content')
  doc.transact(() => ROOTS.content(doc).delete(5, 15), 'content')
  doc.transact(() => {
    const list = new Y.XmlElement('bullet_list')
    const item = new Y.XmlElement('list_item')
    const paragraph = new Y.XmlElement('paragraph')
    const text = new Y.XmlText()
    ROOTS.prosemirror(doc).insert(0, [list])
    list.insert(0, [item])
    item.insert(0, [paragraph])
    paragraph.insert(0, [text])
    paragraph.setAttribute('align', 'center')
    text.insert(0, 'nested ', { italic: true })
    text.insert(7, 'item', { link: { href: 'https://example.com' } })
  }, 'prosemirror')
  doc.transact(() => {
    const list = ROOTS.prosemirror(doc).get(0)
    list.get(0).get(0).get(0).delete(0, 3)
    list.insert(1, [new Y.XmlElement('list_item')])
    list.delete(1, 1)
  }, 'prosemirror')
  doc.transact(() => {
    const nested = new Y.Map()
    ROOTS.meta(doc).set('settings', nested)
    nested.set('theme', { dark: true, sizes: [10, 12.5, 2 ** 53 - 1] })
    ROOTS.meta(doc).set('blob', Uint8Array.of(0, 255, 128))
    ROOTS.items(doc).push([nested.toJSON(), new Y.Array(), 'last'])
  }, 'meta')
  doc.transact(() => {
    ROOTS.meta(doc).delete('blob')
    ROOTS.items(doc).delete(0, 2)
  }, 'meta')
}

const awarenessFrames = (doc) => {
  const awareness = new Awareness(doc)
  const frames = []
  awareness.setLocalState({
    user: { name: 'Corpus', color: '#336699' },
    cursor: { anchor: Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(ROOTS.content(doc), 2)) }
  })
  frames.push(['awareness:state', awarenessStateFrame(awareness, [doc.clientID])])
  awareness.setLocalStateField('cursor', null)
  frames.push(['awareness:field', awarenessStateFrame(awareness, [doc.clientID])])
  awareness.setLocalState(null)
  frames.push(['awareness:gone', awarenessStateFrame(awareness, [doc.clientID])])
  awareness.destroy()
  return frames
}

/**
 * Capture the corpus: `[{ name, frame }]` with every frame as a stock client would send it.
 */
export const captureCorpus = (seed) => {
  const gen = prng.create(seed)
  const first = clientDoc(prng.uint32(gen, 1, 2 ** 31))
  const second = clientDoc(prng.uint32(gen, 1, 2 ** 31))
  const corpus = []
  const capture = (doc) =>
    doc.on('update', (update, origin) => corpus.push({ name: `update:${origin}`, frame: updateFrame(update) }))
  capture(first)
  capture(second)

  corpus.push({ name: 'step1:empty', frame: step1Frame(Y.encodeStateVector(first)) })
  scriptedSession(first)
  const halfway = Y.encodeStateVector(first)
  Y.applyUpdate(second, Y.encodeStateAsUpdate(first), 'sync')
  for (let edit = 0; edit < RANDOM_EDITS; edit++) randomEdit(gen, prng.bool(gen) ? first : second)
  Y.applyUpdate(second, Y.encodeStateAsUpdate(first), 'sync')
  Y.applyUpdate(first, Y.encodeStateAsUpdate(second), 'sync')

  corpus.push(
    { name: 'step1:halfway', frame: step1Frame(halfway) },
    { name: 'step1:full', frame: step1Frame(Y.encodeStateVector(first)) },
    { name: 'step2:whole', frame: step2Frame(Y.encodeStateAsUpdate(first)) },
    { name: 'step2:since-halfway', frame: step2Frame(Y.encodeStateAsUpdate(first, halfway)) },
    { name: 'query-awareness', frame: QUERY_AWARENESS_FRAME },
    ...awarenessFrames(first).map(([name, frame]) => ({ name, frame }))
  )
  return corpus.filter(({ name }) => name !== 'update:sync')
}
