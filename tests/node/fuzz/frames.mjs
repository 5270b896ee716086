// y-websocket frames, encoded with the stock y-protocols helpers a real client uses.

import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'

export const MESSAGE_SYNC = 0
export const MESSAGE_AWARENESS = 1
export const MESSAGE_QUERY_AWARENESS = 3

const framed = (write) => {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/** A sync frame of `subtype` (0 step 1, 1 step 2, 2 update) carrying `payload`. */
export const syncFrame = (subtype, payload) =>
  framed((encoder) => {
    encoding.writeVarUint(encoder, MESSAGE_SYNC)
    encoding.writeVarUint(encoder, subtype)
    encoding.writeVarUint8Array(encoder, payload)
  })

export const updateFrame = (update) => syncFrame(syncProtocol.messageYjsUpdate, update)

export const step1Frame = (stateVector) => syncFrame(syncProtocol.messageYjsSyncStep1, stateVector)

export const step2Frame = (update) => syncFrame(syncProtocol.messageYjsSyncStep2, update)

/** An awareness frame carrying an encoded awareness update. */
export const awarenessFrame = (payload) =>
  framed((encoder) => {
    encoding.writeVarUint(encoder, MESSAGE_AWARENESS)
    encoding.writeVarUint8Array(encoder, payload)
  })

/** An awareness update of raw `[clientId, clock, stateJson]` entries (the JSON unchecked). */
export const rawAwarenessUpdate = (entries) =>
  framed((encoder) => {
    encoding.writeVarUint(encoder, entries.length)
    for (const [clientId, clock, json] of entries) {
      encoding.writeVarUint(encoder, clientId)
      encoding.writeVarUint(encoder, clock)
      encoding.writeVarString(encoder, json)
    }
  })

export const awarenessStateFrame = (awareness, clientIds) =>
  awarenessFrame(awarenessProtocol.encodeAwarenessUpdate(awareness, clientIds))

export const QUERY_AWARENESS_FRAME = Uint8Array.of(MESSAGE_QUERY_AWARENESS)

/**
 * What a frame the attacker sends is, if it is a well-formed sync frame:
 * `{ subtype, payload, payloadStart }`; otherwise null.
 */
export const readSyncFrame = (frame) => {
  try {
    const decoder = decoding.createDecoder(frame)
    if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return null
    const subtype = decoding.readVarUint(decoder)
    const lengthStart = decoder.pos
    const payload = decoding.readVarUint8Array(decoder)
    if (decoder.pos !== frame.length) return null
    return { subtype, payload, payloadStart: lengthStart }
  } catch {
    return null
  }
}

/** A frame whose first varuint (the message type) is `type`, followed by `payload`. */
export const readAwarenessFrame = (frame) => {
  try {
    const decoder = decoding.createDecoder(frame)
    if (decoding.readVarUint(decoder) !== MESSAGE_AWARENESS) return null
    const payload = decoding.readVarUint8Array(decoder)
    return decoder.pos === frame.length ? payload : null
  } catch {
    return null
  }
}
