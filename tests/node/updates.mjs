// Prints, one per line as JSON, updates made by stock Yjs: every kind of content and
// every way an item can name its position (origin, right origin, parent, map key).
// tests/test_update_format.py reads them to check that collab's update reader admits
// whatever Yjs produces, with the nesting depth Yjs itself sees.

import * as Y from 'yjs'

const cases = []
const record = (name, doc, before, depth) => {
  const update = Y.encodeStateAsUpdate(doc, before)
  cases.push({ name, update: Buffer.from(update).toString('base64'), depth })
}

const doc = new Y.Doc()
doc.clientID = 1234567
let sv = Y.encodeStateVector(doc)
const step = (name, depth, change) => {
  change()
  record(name, doc, sv, depth)
  sv = Y.encodeStateVector(doc)
}

const text = doc.getText('content')
step('text insert', 0, () => text.insert(0, 'hello world'))
step('text insert with emoji', 0, () => text.insert(5, ' 😀 there'))
step('text format', 0, () => text.format(0, 5, { bold: true, link: { href: 'https://x' } }))
step('text embed', 0, () => text.insertEmbed(3, { image: 'x.png' }))
step('text delete', 0, () => text.delete(1, 4))
step('nested type in text', 1, () => text.insertEmbed(2, new Y.Map()))

const fragment = doc.getXmlFragment('prosemirror')
let deepest
step('paragraph', 2, () => {
  const paragraph = new Y.XmlElement('paragraph')
  paragraph.setAttribute('level', '1')
  const inner = new Y.XmlText()
  inner.insert(0, 'abc', { strong: {} })
  paragraph.insert(0, [inner])
  fragment.insert(0, [paragraph])
})
step('second paragraph after the first', 2, () => {
  const paragraph = new Y.XmlElement('paragraph')
  paragraph.insert(0, [new Y.XmlText('def')])
  fragment.insert(1, [paragraph])
})
step('list nested 10 deep', 20, () => {
  let parent = fragment
  for (let level = 0; level < 10; level++) {
    const list = new Y.XmlElement('bullet_list')
    const item = new Y.XmlElement('list_item')
    list.insert(0, [item])
    parent.insert(parent.length, [list])
    parent = item
  }
  deepest = parent
})
step('paragraph in the deepest item', 22, () => {
  const paragraph = new Y.XmlElement('paragraph')
  paragraph.insert(0, [new Y.XmlText('deep')])
  deepest.insert(0, [paragraph])
})
step('xml delete', 0, () => fragment.delete(1, 1))

const map = doc.getMap('map')
step('map of every json value', 0, () => {
  map.set('null', null)
  map.set('undefined', undefined)
  map.set('true', true)
  map.set('false', false)
  map.set('int', 42)
  map.set('negative', -7)
  map.set('float', 1.5)
  map.set('big', 2 ** 40)
  map.set('bigint', 12345678901234567890n)
  map.set('string', 'x')
  map.set('bytes', new Uint8Array([1, 2, 3]))
  map.set('object', { a: [1, { b: [null, 'c'] }] })
  map.set('array', [[[[]]]])
})
step('map overwrite', 0, () => map.set('int', 43))
step('nested maps and arrays', 3, () => {
  const inner = new Y.Map()
  const list = new Y.Array()
  list.push([1, 'two', new Y.Text('three')])
  inner.set('list', list)
  map.set('inner', inner)
})
step('subdocument', 0, () => map.set('subdoc', new Y.Doc()))
const array = doc.getArray('array')
step('array insert between', 0, () => {
  array.push([1, 2, 3])
  array.insert(1, ['x'])
})
step('array delete', 0, () => array.delete(0, 2))

const other = new Y.Doc()
other.clientID = 7654321
Y.applyUpdate(other, Y.encodeStateAsUpdate(doc))
const before = Y.encodeStateVector(other)
other.getText('content').insert(3, 'concurrent')
other.getXmlFragment('prosemirror').get(0)
record('another client', other, before, 0)
record('whole document', doc, undefined, 22)

for (const item of cases) process.stdout.write(JSON.stringify(item) + '\n')
