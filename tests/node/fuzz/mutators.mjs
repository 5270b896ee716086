// Mutators: turn a captured frame into a hostile one, deterministically for a given
// generator. Each returns `{ frame, steps }`, `steps` naming what was done (for the report).

import * as encoding from 'lib0/encoding'
import * as prng from 'lib0/prng'
import * as Y from 'yjs'

import { ROOTS } from './edits.mjs'
import {
  awarenessFrame,
  rawAwarenessUpdate,
  readAwarenessFrame,
  readSyncFrame,
  syncFrame,
  updateFrame
} from './frames.mjs'
import { mapEntryUpdate, parseUpdate, setField, splice, varUint } from './updates.mjs'

const MAX_SAFE = 2 ** 53
const INTERESTING = [
  0, 1, 2, 0x7f, 0x80, 0xff, 0x3fff, 0x4000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
  MAX_SAFE - 2, MAX_SAFE - 1, MAX_SAFE, MAX_SAFE + 2, 2 ** 63, 2 ** 64 - 1
]
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x07, 0x08, 0x0a, 0x1f, 0x20, 0x40, 0x7f, 0x80, 0xc0, 0xff]
const DEPTHS = [64, 129, 400, 1000, 5000, 20000]
const UNPARSABLE_NUMBERS = ['NaN', 'Infinity', '-Infinity', '1e999', '-0', '1e-999']

const interesting = (gen, ctx) => {
  const pool = [...INTERESTING, ...ctx.clientIds]
  const base = prng.oneOf(gen, pool)
  return Math.max(0, base + prng.int32(gen, -1, 1))
}

const randomBytes = (gen, count) => Uint8Array.from({ length: count }, () => prng.uint32(gen, 0, 255))

// --- byte level: on any frame or payload ---

const byteMutators = {
  flip: (gen, bytes) => {
    if (bytes.length === 0) return null
    const copy = bytes.slice()
    copy[prng.uint32(gen, 0, copy.length - 1)] ^= 1 << prng.uint32(gen, 0, 7)
    return copy
  },
  setByte: (gen, bytes) => {
    if (bytes.length === 0) return null
    const copy = bytes.slice()
    copy[prng.uint32(gen, 0, copy.length - 1)] = prng.oneOf(gen, INTERESTING_BYTES)
    return copy
  },
  insert: (gen, bytes) => {
    const at = prng.uint32(gen, 0, bytes.length)
    return splice(bytes, at, at, randomBytes(gen, prng.uint32(gen, 1, 16)))
  },
  delete: (gen, bytes) => {
    if (bytes.length === 0) return null
    const start = prng.uint32(gen, 0, bytes.length - 1)
    return splice(bytes, start, prng.uint32(gen, start + 1, Math.min(bytes.length, start + 16)), new Uint8Array())
  },
  truncate: (gen, bytes) => (bytes.length === 0 ? null : bytes.slice(0, prng.uint32(gen, 0, bytes.length - 1))),
  duplicate: (gen, bytes) => {
    if (bytes.length === 0) return null
    const start = prng.uint32(gen, 0, bytes.length - 1)
    const end = prng.uint32(gen, start + 1, Math.min(bytes.length, start + 64))
    return splice(bytes, end, end, bytes.slice(start, end))
  },
  varuint: (gen, bytes, ctx) => {
    if (bytes.length === 0) return null
    const start = prng.uint32(gen, 0, bytes.length - 1)
    let end = start
    while (end < bytes.length && end - start < 10 && bytes[end] & 0x80) end++
    return splice(bytes, start, Math.min(end + 1, bytes.length), varUint(interesting(gen, ctx)))
  }
}

// --- structure aware: on the update of a sync step 2 / update frame ---

const pickStruct = (gen, layout) => {
  const clients = layout.clients.filter(({ structs }) => structs.length > 0)
  if (clients.length === 0) return null
  const client = prng.oneOf(gen, clients)
  return { client, struct: prng.oneOf(gen, client.structs) }
}

const updateMutators = {
  clientId: (gen, update, layout, ctx) =>
    layout.clients.length ? setField(update, prng.oneOf(gen, layout.clients).client, interesting(gen, ctx)) : null,
  clock: (gen, update, layout, ctx) =>
    layout.clients.length ? setField(update, prng.oneOf(gen, layout.clients).clock, interesting(gen, ctx)) : null,
  reference: (gen, update, layout, ctx) => {
    const picked = pickStruct(gen, layout)
    if (picked === null || picked.struct.ids.length === 0) return null
    return setField(update, prng.oneOf(gen, picked.struct.ids), interesting(gen, ctx))
  },
  structCount: (gen, update, layout, ctx) =>
    layout.clients.length ? setField(update, prng.oneOf(gen, layout.clients).structCount, interesting(gen, ctx)) : null,
  duplicateStruct: (gen, update, layout) => {
    const picked = pickStruct(gen, layout)
    if (picked === null) return null
    const { client, struct } = picked
    const copied = splice(update, struct.end, struct.end, update.slice(struct.start, struct.end))
    return setField(copied, client.structCount, client.structCount.value + 1)
  },
  dropStruct: (gen, update, layout) => {
    const picked = pickStruct(gen, layout)
    if (picked === null) return null
    const { client, struct } = picked
    const dropped = splice(update, struct.start, struct.end, new Uint8Array())
    return setField(dropped, client.structCount, client.structCount.value - 1)
  },
  duplicateClient: (gen, update, layout) => {
    if (layout.clients.length === 0) return null
    const client = prng.oneOf(gen, layout.clients)
    const copied = splice(update, client.end, client.end, update.slice(client.start, client.end))
    return splice(copied, 0, layout.clients[0].start, varUint(layout.clients.length + 1))
  },
  contentRef: (gen, update, layout) => {
    const picked = pickStruct(gen, layout)
    if (picked === null) return null
    const copy = update.slice()
    copy[picked.struct.start] = (picked.struct.info & 0xe0) | prng.uint32(gen, 0, 31)
    return copy
  },
  deleteSet: (gen, update, layout, ctx) =>
    layout.deleteSet.fields.length
      ? setField(update, prng.oneOf(gen, layout.deleteSet.fields), interesting(gen, ctx))
      : null
}

// --- amplifiers: frames built to nest deep or to break JSON.parse ---

const deepXml = (gen, ctx) => {
  const depth = prng.oneOf(gen, DEPTHS)
  const doc = new Y.Doc()
  doc.clientID = ctx.freshClientId(gen)
  let update = null
  doc.on('update', (captured) => { update = captured })
  doc.transact(() => {
    let parent = ROOTS.prosemirror(doc)
    for (let level = 0; level < depth; level++) {
      const child = new Y.XmlElement(level % 2 ? 'blockquote' : 'bullet_list')
      parent.insert(0, [child])
      parent = child
    }
    const text = new Y.XmlText()
    parent.insert(0, [text])
    text.insert(0, 'deep', { bold: true })
  })
  doc.destroy()
  return { frame: updateFrame(update), steps: [`deepXml(${depth})`] }
}

const anyNesting = (depth, objects) => {
  const encoder = encoding.createEncoder()
  for (let level = 0; level < depth; level++) {
    if (objects) {
      encoding.writeUint8(encoder, 118) // lib0 any: object
      encoding.writeVarUint(encoder, 1)
      encoding.writeVarString(encoder, 'a')
    } else {
      encoding.writeUint8(encoder, 117) // lib0 any: array
      encoding.writeVarUint(encoder, 1)
    }
  }
  encoding.writeUint8(encoder, 126) // null
  return encoding.toUint8Array(encoder)
}

const deepAny = (gen, ctx) => {
  const depth = prng.oneOf(gen, DEPTHS)
  const objects = prng.bool(gen)
  const update = mapEntryUpdate(ctx.freshClientId(gen), 'meta', 'deep', anyNesting(depth, objects))
  return { frame: updateFrame(update), steps: [`deepAny(${depth}, ${objects ? 'objects' : 'arrays'})`] }
}

const awarenessOf = (entries) => awarenessFrame(rawAwarenessUpdate(entries))

const deepAwareness = (gen, ctx) => {
  const depth = prng.oneOf(gen, DEPTHS)
  const json = prng.bool(gen) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
  return { frame: awarenessOf([[ctx.awarenessId, ctx.nextClock(), json]]), steps: [`deepAwareness(${depth})`] }
}

const badNumberAwareness = (gen, ctx) => {
  const number = prng.oneOf(gen, UNPARSABLE_NUMBERS)
  const json = `{"user":{"name":"nan","cursor":${number}}}`
  return { frame: awarenessOf([[ctx.awarenessId, ctx.nextClock(), json]]), steps: [`awareness(${number})`] }
}

const impersonation = (gen, ctx) => {
  const victim = prng.oneOf(gen, ctx.clientIds)
  const state = prng.bool(gen) ? '{"user":{"name":"ADMIN (impersonated)","color":"#ff0000"}}' : 'null'
  const clock = prng.oneOf(gen, [0, 1, 1000, MAX_SAFE - 1])
  return { frame: awarenessOf([[victim, clock, state]]), steps: [`impersonate(${victim}, ${state}, ${clock})`] }
}

const manyClients = (gen, ctx) => {
  const count = prng.oneOf(gen, [5, 100, 20000])
  const entries = Array.from({ length: count }, () => [ctx.freshClientId(gen), 1, prng.bool(gen) ? 'null' : '{}'])
  return { frame: awarenessOf(entries), steps: [`awarenessClients(${count})`] }
}

const largeState = (gen, ctx) => {
  const size = prng.oneOf(gen, [30000, 40000, 500000])
  const json = JSON.stringify({ user: { name: 'x'.repeat(size) } })
  return { frame: awarenessOf([[ctx.awarenessId, ctx.nextClock(), json]]), steps: [`awarenessBytes(${size})`] }
}

const amplifiers = { deepXml, deepAny, deepAwareness, badNumberAwareness, impersonation, manyClients, largeState }

// --- putting them together ---

const mutatePayload = (gen, entry, ctx, steps) => {
  const sync = readSyncFrame(entry.frame)
  const awareness = sync === null ? readAwarenessFrame(entry.frame) : null
  if (sync === null && awareness === null) return null
  let payload = sync === null ? awareness : sync.payload
  const done = steps.length
  if (sync !== null && sync.subtype !== 0 && prng.uint32(gen, 0, 2) > 0) {
    try {
      const layout = parseUpdate(payload)
      const name = prng.oneOf(gen, Object.keys(updateMutators))
      const mutated = updateMutators[name](gen, payload, layout, ctx)
      if (mutated !== null) {
        payload = mutated
        steps.push(`update.${name}`)
      }
    } catch {
      // a payload mutated before no longer parses: fall through to byte mutations
    }
  }
  if (steps.length === done || prng.bool(gen)) {
    const name = prng.oneOf(gen, Object.keys(byteMutators))
    const mutated = byteMutators[name](gen, payload, ctx)
    if (mutated !== null) {
      payload = mutated
      steps.push(`payload.${name}`)
    }
  }
  return sync === null ? awarenessFrame(payload) : syncFrame(sync.subtype, payload)
}

const spliceFrames = (gen, first, second) => {
  const a = readSyncFrame(first.frame)
  const b = readSyncFrame(second.frame)
  if (a === null || b === null) {
    return splice(first.frame, prng.uint32(gen, 0, first.frame.length), first.frame.length,
      second.frame.subarray(prng.uint32(gen, 0, second.frame.length)))
  }
  const head = a.payload.subarray(0, prng.uint32(gen, 0, a.payload.length))
  const tail = b.payload.subarray(prng.uint32(gen, 0, b.payload.length))
  return syncFrame(a.subtype, Uint8Array.from([...head, ...tail]))
}

/**
 * A hostile frame made from the corpus: `{ frame, base, steps }`.
 *
 * `ctx` holds `clientIds` (the watchers', to impersonate or collide with),
 * `awarenessId` and `nextClock()` (the attacker's own presence) and `freshClientId(gen)`.
 */
export const mutate = (gen, corpus, ctx) => {
  const roll = prng.uint32(gen, 0, 99)
  if (roll < 8) {
    const name = prng.oneOf(gen, Object.keys(amplifiers))
    return { base: 'amplifier', ...amplifiers[name](gen, ctx) }
  }
  const entry = prng.oneOf(gen, corpus)
  if (roll < 16) return { base: entry.name, frame: entry.frame, steps: ['unchanged'] }
  if (roll < 24) {
    const other = prng.oneOf(gen, corpus)
    return { base: `${entry.name}+${other.name}`, frame: spliceFrames(gen, entry, other), steps: ['splice'] }
  }
  let frame = entry.frame
  const steps = []
  const rounds = prng.uint32(gen, 1, 3)
  for (let round = 0; round < rounds; round++) {
    const reframed = roll < 85 ? mutatePayload(gen, { frame }, ctx, steps) : null
    if (reframed !== null) {
      frame = reframed
    } else {
      const name = prng.oneOf(gen, Object.keys(byteMutators))
      frame = byteMutators[name](gen, frame, ctx) ?? frame
      steps.push(`frame.${name}`)
    }
  }
  return { base: entry.name, frame, steps }
}
