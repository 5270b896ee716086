// Where things are inside a Yjs update (encoding v1), so mutators can edit one struct, one
// client id or one clock instead of random bytes. Only offsets are read: content is skipped
// with lib0's own decoders, never interpreted.

import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

// Content refs (the low 5 bits of an item's info byte), as Yjs numbers them.
const GC = 0
const DELETED = 1
const JSON_CONTENT = 2
const BINARY = 3
const STRING = 4
const EMBED = 5
const FORMAT = 6
const TYPE = 7
const ANY = 8
const DOC = 9
const SKIP = 10

const XML_ELEMENT = 3
const XML_HOOK = 5

const HAS_ORIGIN = 0x80
const HAS_RIGHT_ORIGIN = 0x40
const HAS_PARENT_SUB = 0x20

// A varuint read at the decoder's position, with where it lies.
const readField = (decoder) => {
  const start = decoder.pos
  const value = decoding.readVarUint(decoder)
  return { start, end: decoder.pos, value }
}

const skipContent = (decoder, ref) => {
  switch (ref) {
    case DELETED:
      decoding.readVarUint(decoder)
      break
    case JSON_CONTENT:
      for (let count = decoding.readVarUint(decoder); count > 0; count--) decoding.readVarString(decoder)
      break
    case BINARY:
      decoding.readVarUint8Array(decoder)
      break
    case STRING:
    case EMBED:
      decoding.readVarString(decoder)
      break
    case FORMAT:
      decoding.readVarString(decoder)
      decoding.readVarString(decoder)
      break
    case TYPE: {
      const typeRef = decoding.readVarUint(decoder)
      if (typeRef === XML_ELEMENT || typeRef === XML_HOOK) decoding.readVarString(decoder)
      break
    }
    case ANY:
      for (let count = decoding.readVarUint(decoder); count > 0; count--) decoding.readAny(decoder)
      break
    case DOC:
      decoding.readVarString(decoder)
      decoding.readAny(decoder)
      break
    default:
      throw new Error(`unknown content ref ${ref}`)
  }
}

const readStruct = (decoder) => {
  const start = decoder.pos
  const info = decoding.readUint8(decoder)
  const ref = info & 0x1f
  const struct = { start, info, ref, ids: [] }
  if (ref === GC || ref === SKIP) {
    struct.length = readField(decoder)
  } else {
    if (info & HAS_ORIGIN) struct.ids.push(readField(decoder), readField(decoder))
    if (info & HAS_RIGHT_ORIGIN) struct.ids.push(readField(decoder), readField(decoder))
    if (!(info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN))) {
      if (decoding.readVarUint(decoder) === 1) {
        struct.parentKey = { start: decoder.pos }
        decoding.readVarString(decoder)
        struct.parentKey.end = decoder.pos
      } else {
        struct.ids.push(readField(decoder), readField(decoder))
      }
      if (info & HAS_PARENT_SUB) decoding.readVarString(decoder)
    }
    struct.contentStart = decoder.pos
    skipContent(decoder, ref)
  }
  struct.end = decoder.pos
  return struct
}

/**
 * The layout of a v1 update: per client its header fields and structs, then the delete set.
 * Throws on anything that is not a well-formed update.
 */
export const parseUpdate = (update) => {
  const decoder = decoding.createDecoder(update)
  const clients = []
  for (let count = decoding.readVarUint(decoder); count > 0; count--) {
    const start = decoder.pos
    const structCount = readField(decoder)
    const client = readField(decoder)
    const clock = readField(decoder)
    const structs = []
    for (let index = 0; index < structCount.value; index++) structs.push(readStruct(decoder))
    clients.push({ start, structCount, client, clock, structs, end: decoder.pos })
  }
  const deleteSet = { start: decoder.pos, fields: [] }
  for (let count = decoding.readVarUint(decoder); count > 0; count--) {
    deleteSet.fields.push(readField(decoder))
    const ranges = readField(decoder)
    deleteSet.fields.push(ranges)
    for (let range = 0; range < ranges.value; range++) {
      deleteSet.fields.push(readField(decoder), readField(decoder))
    }
  }
  deleteSet.end = decoder.pos
  if (decoder.pos !== update.length) throw new Error('trailing bytes after the delete set')
  return { clients, deleteSet }
}

/** `bytes` with `[start, end)` replaced by `replacement`. */
export const splice = (bytes, start, end, replacement) => {
  const result = new Uint8Array(bytes.length - (end - start) + replacement.length)
  result.set(bytes.subarray(0, start), 0)
  result.set(replacement, start)
  result.set(bytes.subarray(end), start + replacement.length)
  return result
}

/** The varuint encoding of `value` (up to 2**64: beyond lib0's own writer on purpose). */
export const varUint = (value) => {
  const bytes = []
  let rest = BigInt(value)
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80)
    rest >>= 7n
  }
  bytes.push(Number(rest))
  return Uint8Array.from(bytes)
}

/** `bytes` with the varuint `field` (from parseUpdate) set to `value`. */
export const setField = (bytes, field, value) => splice(bytes, field.start, field.end, varUint(value))

/** A v1 update holding one root-level map entry `ykey[key]` whose ContentAny is `anyBytes`. */
export const mapEntryUpdate = (client, ykey, key, anyBytes) => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 1) // one client
  encoding.writeVarUint(encoder, 1) // one struct
  encoding.writeVarUint(encoder, client)
  encoding.writeVarUint(encoder, 0) // clock
  encoding.writeUint8(encoder, ANY | HAS_PARENT_SUB)
  encoding.writeVarUint(encoder, 1) // the parent is a root type, named
  encoding.writeVarString(encoder, ykey)
  encoding.writeVarString(encoder, key)
  encoding.writeVarUint(encoder, 1) // one value
  encoding.writeUint8Array(encoder, anyBytes)
  encoding.writeVarUint(encoder, 0) // empty delete set
  return encoding.toUint8Array(encoder)
}
