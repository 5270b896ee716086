// Load generator for collab's benchmarks: stock Yjs clients (y-websocket's
// WebsocketProvider on `ws`) in one Node process. Usage:
//   node load.mjs '<scenario JSON>'
// prints one JSON line with the results on stdout (progress goes to stderr).
// Scenarios: "fanout" (latency and deliveries), "hold" (idle connections / open
// documents and the server's RSS), "coldjoin" (time for a fresh client to receive a
// large stored document), "victims" (clients editing while hostile_memory.py attacks;
// driven by stdin lines), "opendocs" (many documents held open and idle, until stdin
// says "close"), "opendocsHocuspocus" (the same over a few Hocuspocus sockets, many
// documents each), "storm" (every client connecting at once, as after a restart). Every
// loop is bounded in count and time.

import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

console.log = console.error // stdout carries the result line only

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const socketClassWith = (headers) =>
  class extends WebSocket {
    constructor (url, protocols) {
      super(url, protocols, { headers })
    }
  }

// One client on `url` for document `key`, with no awareness state (document traffic only).
// `cookie` (optional) logs it in.
const openClient = (url, origin, key, cookie = null) => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, key, doc, {
    connect: false,
    disableBc: true,
    WebSocketPolyfill: socketClassWith({ Origin: origin, ...(cookie ? { Cookie: cookie } : {}) })
  })
  provider.awareness.setLocalState(null)
  const client = { doc, provider, closes: 0, closeCodes: [] }
  provider.on('connection-close', (event) => {
    client.closes += 1
    client.closeCodes.push(event ? event.code : null)
  })
  provider.connect()
  return client
}

const waitUntil = async (predicate, timeoutMs, what) => {
  const deadline = performance.now() + timeoutMs
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`)
    await sleep(5)
  }
}

const percentile = (sorted, p) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

const rssOf = (pid) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) * 1024
}

const closeAll = async (clients) => {
  for (const client of clients) client.provider.destroy()
  await sleep(200)
}

// Fan-out: `clients` clients on one document (spread round-robin over `urls`); the first
// `writers` of them each set `rate` new map keys per second for `duration` s. Every value
// is the send time; every other client records the receive time.
async function fanout ({ urls, origin, key, clients: count, writers, rate, duration, drain = 5, connectTimeout = 60 }) {
  const clients = []
  for (let i = 0; i < count; i++) clients.push(openClient(urls[i % urls.length], origin, key))
  await waitUntil(() => clients.every((c) => c.provider.synced), connectTimeout * 1000, 'all clients synced')
  const latencies = []
  const crossLatencies = [] // writer and receiver on different servers (urls)
  const received = new Array(count).fill(0)
  let duplicates = 0
  let recording = true
  clients.forEach((client, index) => {
    const map = client.doc.getMap('bench')
    const seen = new Set()
    map.observe((event) => {
      const now = performance.now()
      for (const name of event.keysChanged) {
        const writer = Number(name.split(':')[0])
        if (writer === index) continue
        if (seen.has(name) || !map.has(name)) {
          duplicates += 1 // seen again, or removed: a correct server never does either
          continue
        }
        seen.add(name)
        if (!recording) continue
        const latency = now - map.get(name)
        latencies.push(latency)
        if (writer % urls.length !== index % urls.length) crossLatencies.push(latency)
        received[index] += 1
      }
    })
  })
  await sleep(200)
  const perWriter = Math.floor(rate * duration)
  const interval = 1000 / rate
  const sent = new Array(writers).fill(0)
  const start = performance.now() + 10
  const phase = Array.from({ length: writers }, (_, w) => (w * interval) / writers)
  const hardEnd = start + duration * 1000 + 5000
  while (sent.some((n) => n < perWriter) && performance.now() < hardEnd) {
    const now = performance.now()
    for (let w = 0; w < writers; w++) {
      while (sent[w] < perWriter && now >= start + phase[w] + sent[w] * interval) {
        clients[w].doc.getMap('bench').set(`${w}:${sent[w]}`, performance.now())
        sent[w] += 1
      }
    }
    await sleep(1)
  }
  const sendEnd = performance.now()
  const totalSent = sent.reduce((a, b) => a + b, 0)
  const expected = totalSent * (count - 1)
  const deliveredBy = () => received.reduce((a, b) => a + b, 0)
  const lastWindowEnd = performance.now()
  await waitUntil(() => deliveredBy() >= expected || performance.now() > sendEnd + drain * 1000, drain * 1000 + 1000, 'drain')
  recording = false
  const delivered = deliveredBy()
  const allDone = performance.now()
  latencies.sort((a, b) => a - b)
  crossLatencies.sort((a, b) => a - b)
  const closes = clients.reduce((a, c) => a + c.closes, 0)
  const sizes = clients.map((c) => c.doc.getMap('bench').size)
  const result = {
    sent: totalSent,
    expected,
    delivered,
    lost: expected - delivered,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? null,
    crossP50: percentile(crossLatencies, 50),
    crossP99: percentile(crossLatencies, 99),
    sendSeconds: (sendEnd - start) / 1000,
    deliveriesPerSecond: delivered / ((allDone - start) / 1000),
    offeredPerSecond: expected / ((lastWindowEnd - start) / 1000),
    duplicates,
    missingKeysAtEnd: totalSent * count - sizes.reduce((a, b) => a + b, 0),
    reconnects: closes
  }
  await closeAll(clients)
  return result
}

// Hold `count` connections open on documents of `groupSize` connections each (each first
// client writes `bytes` characters), then read the server's RSS; baseline read before.
async function hold ({ urls, origin, keyPrefix, pid, count, groupSize, bytes = 0, batch = 100, settle = 2, connectTimeout = 120 }) {
  await sleep(settle * 1000)
  const before = rssOf(pid)
  const clients = []
  const started = performance.now()
  const deadline = started + connectTimeout * 1000
  for (let i = 0; i < count && performance.now() < deadline; i += batch) {
    const wave = []
    for (let j = i; j < Math.min(count, i + batch); j++) {
      wave.push(openClient(urls[j % urls.length], origin, `${keyPrefix}-${Math.floor(j / groupSize)}`))
    }
    clients.push(...wave)
    try {
      await waitUntil(() => wave.every((c) => c.provider.synced), Math.max(1, deadline - performance.now()), 'wave synced')
    } catch (error) {
      console.error(error.message)
      break
    }
    if (bytes > 0) {
      for (let j = 0; j < wave.length; j++) {
        if ((i + j) % groupSize === 0) wave[j].doc.getText('content').insert(0, 'x'.repeat(bytes))
      }
    }
  }
  const connectSeconds = (performance.now() - started) / 1000
  const connected = clients.filter((c) => c.provider.synced && c.provider.wsconnected).length
  await sleep(settle * 1000)
  const after = rssOf(pid)
  const stillConnected = clients.filter((c) => c.provider.wsconnected).length
  await closeAll(clients)
  return { requested: count, connected, stillConnected, connectSeconds, rssBefore: before, rssAfter: after, perConnection: (after - before) / Math.max(1, connected) }
}

// Fill a document with `chars` characters in `chunk`-sized inserts, wait until a second
// client has it all (so the server has it), close both, wait `unloadWait` s so the server
// unloads it, then time a fresh client from connect to having every character; `reps` times.
async function coldjoin ({ url, origin, key, chars, chunk = 1000, reps = 3, unloadWait = 3, timeout = 120 }) {
  const writer = openClient(url, origin, key)
  await waitUntil(() => writer.provider.synced, timeout * 1000, 'writer synced')
  const text = writer.doc.getText('content')
  for (let done = 0; done < chars; done += chunk) {
    text.insert(done, 'abcdefghij'.repeat(Math.ceil(chunk / 10)).slice(0, Math.min(chunk, chars - done)))
    if (done % (chunk * 50) === 0) await sleep(1)
  }
  const check = openClient(url, origin, key)
  await waitUntil(() => check.doc.getText('content').length === chars, timeout * 1000, 'checker has the document')
  await closeAll([writer, check])
  const times = []
  for (let r = 0; r < reps; r++) {
    await sleep(unloadWait * 1000)
    const t0 = performance.now()
    const fresh = openClient(url, origin, key)
    await waitUntil(() => fresh.doc.getText('content').length === chars, timeout * 1000, 'fresh client has the document')
    times.push(performance.now() - t0)
    await closeAll([fresh])
  }
  const sorted = [...times].sort((a, b) => a - b)
  return { chars, times, median: percentile(sorted, 50), min: sorted[0] }
}

// Two clients (logged in with `cookie`) on `key`, with presence states; the first writes
// `seedChars` characters; prints {"ready": ...} once both have them. Then one command per
// stdin line: "edit" makes each client, every `interval` ms, insert a character at a
// random place and record the time under a key of its own (one transaction); "report"
// stops, waits up to `drain` s for every key to reach the other client and prints the
// figures; "close" closes both and ends the scenario.
async function victims ({ url, origin, cookie, key, seedChars, interval = 50, drain = 10, timeout = 60 }) {
  const clients = [0, 1].map(() => openClient(url, origin, key, cookie))
  await waitUntil(() => clients.every((c) => c.provider.synced), timeout * 1000, 'victims synced')
  clients.forEach((c, i) => c.provider.awareness.setLocalState({ user: { name: `victim ${i}` } }))
  clients[0].doc.getText('content').insert(0, 'abcdefghij'.repeat(Math.ceil(seedChars / 10)).slice(0, seedChars))
  await waitUntil(() => clients[1].doc.getText('content').length >= seedChars, timeout * 1000, 'seed reached victim 1')
  const latencies = []
  const sent = [0, 0]
  clients.forEach((client, index) => {
    const marks = client.doc.getMap('marks')
    marks.observe((event) => {
      const now = performance.now()
      for (const name of event.keysChanged) {
        if (Number(name.split(':')[0]) !== index && marks.has(name)) latencies.push(now - marks.get(name))
      }
    })
  })
  const lengths = () => clients.map((c) => c.doc.getText('content').length)
  process.stdout.write(JSON.stringify({ ready: true, clientIds: clients.map((c) => c.doc.clientID), lengths: lengths() }) + '\n')
  let timer = null
  for await (const command of createInterface({ input: process.stdin })) {
    if (command === 'edit') {
      latencies.length = 0
      sent.fill(0)
      timer = setInterval(() => clients.forEach((client, index) => {
        const text = client.doc.getText('content')
        client.doc.transact(() => {
          text.insert(Math.floor(Math.random() * (text.length + 1)), 'v')
          client.doc.getMap('marks').set(`${index}:${sent[index]++}`, performance.now())
        })
      }), interval)
    } else if (command === 'report') {
      clearInterval(timer)
      const total = () => sent[0] + sent[1]
      const deadline = performance.now() + drain * 1000
      while (latencies.length < total() && performance.now() < deadline) await sleep(20)
      const vectors = clients.map((c) => Buffer.from(Y.encodeStateVector(c.doc)).toString('base64'))
      const sorted = [...latencies].sort((a, b) => a - b)
      process.stdout.write(JSON.stringify({
        sent: total(),
        delivered: latencies.length,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted.at(-1) ?? null,
        identical: vectors[0] === vectors[1],
        lengths: lengths(),
        synced: clients.map((c) => c.provider.synced),
        closeCodes: clients.flatMap((c) => c.closeCodes)
      }) + '\n')
    } else if (command === 'close') {
      break
    }
  }
  await closeAll(clients)
  return { closed: true }
}

// Open `count` documents `${keyPrefix}-0` ... on `url`, one client each, in waves of
// `batch`; each client writes one character once synced. Prints {"ready": ...} once all
// are open, then holds them, idle, until a stdin line says "close".
async function opendocs ({ url, origin, keyPrefix, count, batch = 100, connectTimeout = 900 }) {
  const clients = []
  const started = performance.now()
  const deadline = started + connectTimeout * 1000
  for (let i = 0; i < count; i += batch) {
    const wave = []
    for (let j = i; j < Math.min(count, i + batch); j++) wave.push(openClient(url, origin, `${keyPrefix}-${j}`))
    clients.push(...wave)
    await waitUntil(() => wave.every((c) => c.provider.synced), Math.max(1, deadline - performance.now()), 'wave synced')
    for (const client of wave) client.doc.getText('content').insert(0, 'x')
  }
  const connected = clients.filter((c) => c.provider.wsconnected).length
  const connectSeconds = (performance.now() - started) / 1000
  process.stdout.write(JSON.stringify({ ready: true, connected, connectSeconds }) + '\n')
  for await (const command of createInterface({ input: process.stdin })) {
    if (command === 'close') break
  }
  const stillConnected = clients.filter((c) => c.provider.wsconnected).length
  const closes = clients.reduce((sum, c) => sum + c.closes, 0)
  await closeAll(clients)
  return { connected, stillConnected, closes, connectSeconds }
}

// `count` documents held open as "opendocs" does, but by HocuspocusProviders sharing
// `sockets` sockets (consecutive documents on one socket, at most 100 each: the server
// holds at most that many awaiting authorization per socket). No awareness, as there.
async function opendocsHocuspocus ({ url, origin, keyPrefix, count, sockets, batch = 100, connectTimeout = 900 }) {
  const perSocket = Math.ceil(count / sockets)
  const websockets = []
  for (let s = 0; s < sockets; s++) {
    const socket = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: socketClassWith({ Origin: origin }) })
    socket.closes = 0
    socket.on('close', () => { socket.closes += 1 })
    websockets.push(socket)
  }
  const providers = []
  const started = performance.now()
  const deadline = started + connectTimeout * 1000
  for (let i = 0; i < count; i += batch) {
    const wave = []
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const provider = new HocuspocusProvider({
        websocketProvider: websockets[Math.floor(j / perSocket)],
        name: `${keyPrefix}-${j}`,
        document: new Y.Doc(),
        awareness: null
      })
      provider.attach()
      wave.push(provider)
    }
    providers.push(...wave)
    const settled = () => wave.every((p) => p.synced && p.unsyncedChanges === 0)
    await waitUntil(settled, Math.max(1, deadline - performance.now()), 'wave synced')
    for (const provider of wave) provider.document.getText('content').insert(0, 'x')
  }
  const synced = () => providers.filter((p) => p.isAuthenticated && p.synced).length
  const connected = synced()
  const connectSeconds = (performance.now() - started) / 1000
  process.stdout.write(JSON.stringify({ ready: true, connected, connectSeconds }) + '\n')
  for await (const command of createInterface({ input: process.stdin })) {
    if (command === 'close') break
  }
  const stillConnected = synced()
  const closes = websockets.reduce((sum, socket) => sum + socket.closes, 0)
  for (const provider of providers) provider.destroy()
  for (const socket of websockets) socket.destroy()
  return { connected, stillConnected, closes, connectSeconds }
}

// Reconnect storm: `count` clients on `documents` documents (client i on document
// i % documents, logged in with cookies[i % cookies.length]) all connect at the same
// moment, as after a restart. Reports the time until every client has synced, and how
// many were dropped (closed at least once) on the way.
async function storm ({ urls, origin, keyPrefix, clients: count, documents, cookies = [], timeout = 120 }) {
  const started = performance.now()
  const clients = []
  for (let i = 0; i < count; i++) {
    const cookie = cookies.length ? cookies[i % cookies.length] : null
    clients.push(openClient(urls[i % urls.length], origin, `${keyPrefix}-${i % documents}`, cookie))
  }
  const synced = () => clients.filter((c) => c.provider.synced).length
  try {
    await waitUntil(() => synced() === count, timeout * 1000, 'every client synced')
  } catch (error) {
    console.error(error.message)
  }
  const seconds = (performance.now() - started) / 1000
  const result = {
    clients: count,
    documents,
    users: cookies.length,
    synced: synced(),
    seconds,
    dropped: clients.filter((c) => c.closes > 0).length,
    closeCodes: [...new Set(clients.flatMap((c) => c.closeCodes))]
  }
  await closeAll(clients)
  return result
}

const scenarios = { fanout, hold, coldjoin, victims, opendocs, opendocsHocuspocus, storm }
const spec = JSON.parse(process.argv[2])
const timer = setTimeout(() => { console.error('scenario exceeded its time limit'); process.exit(3) }, (spec.limit ?? 600) * 1000)
try {
  const result = await scenarios[spec.scenario](spec)
  process.stdout.write(JSON.stringify(result) + '\n')
  clearTimeout(timer)
  process.exit(0)
} catch (error) {
  console.error(error.stack)
  process.exit(2)
}
