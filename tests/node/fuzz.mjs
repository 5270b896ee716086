// The fuzzer's Node side (driven by tests/e2e/test_fuzz.py). One JSON request on stdin,
// one JSON result on stdout; logs go to stderr.
//
// {"mode": "run", ...}: stock y-websocket watchers edit a document while an editor and a
//   reader connection send it mutated frames; reports what the server answered, what the
//   watchers hold and every incident, each hostile frame written to `artifacts`.
// {"mode": "fresh", ...}: a new stock client syncs the document; reports what it holds.
// {"mode": "summarise", "updates": [base64]}: describes the document stored updates make.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { isDeepStrictEqual } from 'node:util'
import * as prng from 'lib0/prng'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

import { Attacker } from './fuzz/attacker.mjs'
import { captureCorpus } from './fuzz/corpus.mjs'
import { mutate } from './fuzz/mutators.mjs'
import { summarise, summariseUpdates } from './fuzz/summary.mjs'
import { Watcher } from './fuzz/watchers.mjs'
import { headersFor, socketClassWith } from './sockets.mjs'

const EDIT_INTERVAL = 150
const SETTLE_TIMEOUT = 20000
const SETTLE_POLL = 300
const UNREACHABLE_AFTER = 5
const SAVED_PER_KIND = 20
const RECENT_FRAMES = 4

console.log = console.error // stdout carries the result only

const readRequest = async () => {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

/** Incidents, each with the frames that led to it written to the artifacts directory. */
class Incidents {
  constructor (directory) {
    this.directory = directory
    this.list = []
    this.counts = {}
    mkdirSync(directory, { recursive: true })
  }

  add (kind, detail, frames = []) {
    const count = (this.counts[kind] = (this.counts[kind] ?? 0) + 1)
    if (count > SAVED_PER_KIND) return
    const files = frames.map((sent, index) => {
      const file = join(this.directory, `${kind}-${count}-${index}.bin`)
      writeFileSync(file, sent.frame)
      return { file, attacker: sent.attacker, number: sent.number, base: sent.base, steps: sent.steps, bytes: sent.frame.length }
    })
    this.list.push({ kind, detail, frames: files, at: Date.now() })
  }
}

// Seeds of the independent random streams one run seed gives.
const STREAMS = { corpus: 0, watchers: 1, presence: 2, editor: 3, reader: 4 }

const streamSeed = (seed, stream) => seed * 8 + STREAMS[stream]

const watchersFor = (request) => {
  const gen = prng.create(streamSeed(request.seed, 'watchers'))
  const roles = [['editor-a', 'editor', true], ['editor-b', 'editor', true], ['reader-c', 'reader', false]]
  return roles.map(([name, role, edits]) => new Watcher({
    name,
    url: request.url,
    key: request.key,
    cookie: request.cookies[role],
    origin: request.origin,
    clientID: prng.uint32(gen, 1, 2 ** 31),
    edits,
    seed: prng.uint32(gen, 0, 2 ** 31)
  }))
}

const waitFor = async (condition, timeout) => {
  const deadline = Date.now() + timeout
  while (!condition()) {
    if (Date.now() > deadline) return false
    await sleep(SETTLE_POLL)
  }
  return true
}

// Watchers agree: same content and state vector, and each knows exactly the watchers'
// own presence states (no ghost or forged state left once the attackers are gone).
const settled = (watchers) => {
  if (!watchers.every((watcher) => watcher.synced)) return false
  const summaries = watchers.map((watcher) => summarise(watcher.doc))
  const same = summaries.every((summary) =>
    summary.digest === summaries[0].digest && isDeepStrictEqual(summary.stateVector, summaries[0].stateVector))
  const expected = Object.fromEntries(watchers.map((watcher) => [watcher.clientID, watcher.presence]))
  return same && watchers.every((watcher) => isDeepStrictEqual(watcher.awarenessStates(), expected))
}

const attack = async ({ attacker, gen, corpus, ctx, until, request, incidents, recent, sent }) => {
  const interval = 1000 / request.framesPerSecond
  let failedConnects = 0
  while (until()) {
    if (!attacker.open) {
      const refused = await attacker.connect()
      if (refused !== null) {
        failedConnects++
        if (failedConnects >= UNREACHABLE_AFTER) {
          incidents.add('unreachable', `${attacker.name}: ${failedConnects} connections in a row closed with ${refused} before opening`, recent[attacker.name])
          return
        }
        await sleep(200)
        continue
      }
      failedConnects = 0
    }
    const started = Date.now()
    const mutation = mutate(gen, corpus, ctx)
    const number = ++sent[attacker.name]
    const record = { attacker: attacker.name, number, ...mutation }
    recent[attacker.name] = [...recent[attacker.name], record].slice(-RECENT_FRAMES)
    const outcome = await attacker.send(mutation.frame)
    if (!outcome.answered) {
      incidents.add('no-answer', `${attacker.name}: no answer within ${request.answerTimeout} ms to frame ${number}`, [record])
      return
    }
    if (outcome.closeCode !== null) {
      ctx.closes.push({ attacker: attacker.name, code: outcome.closeCode, number, base: mutation.base, steps: mutation.steps })
      if (!request.documentedCodes.includes(outcome.closeCode)) {
        incidents.add('undocumented-close', `${attacker.name} closed with ${outcome.closeCode} after frame ${number}`, [record])
      }
    }
    await sleep(Math.max(0, interval - (Date.now() - started)))
  }
}

const run = async (request) => {
  const incidents = new Incidents(request.artifacts)
  const recent = { editor: [], reader: [] }
  const lastFrames = () => [...recent.editor, ...recent.reader]
  const report = (where) => (...args) => incidents.add('watcher-error', `${where}: ${args.map(String).join(' ')}`, lastFrames())
  process.on('uncaughtException', (error) => report('uncaught exception')(error.stack ?? error))
  process.on('unhandledRejection', (error) => report('unhandled rejection')(error?.stack ?? error))
  console.error = report('console.error')
  const warn = console.warn
  console.warn = (message, ...rest) => {
    if (String(message).startsWith('Permission denied')) return // the reader watcher is told so
    report('console.warn')(message, ...rest)
  }

  const corpus = captureCorpus(streamSeed(request.seed, 'corpus'))
  const watchers = watchersFor(request)
  if (!(await waitFor(() => watchers.every((watcher) => watcher.synced), SETTLE_TIMEOUT))) {
    incidents.add('watchers-not-synced', 'the watchers did not sync before the attack')
  }
  const editing = setInterval(() => watchers.forEach((watcher) => watcher.edit()), EDIT_INTERVAL)

  const gen = prng.create(streamSeed(request.seed, 'presence'))
  const clientIds = watchers.map((watcher) => watcher.clientID)
  const closes = []
  let clock = 0
  const ctx = {
    clientIds,
    closes,
    awarenessId: prng.uint32(gen, 1, 2 ** 31),
    nextClock: () => ++clock,
    freshClientId: (freshGen) => prng.uint32(freshGen, 1, 2 ** 31)
  }
  const sent = { editor: 0, reader: 0 }
  const deadline = Date.now() + request.seconds * 1000
  const until = () => Date.now() < deadline && sent.editor + sent.reader < request.maxFrames &&
    !incidents.counts['no-answer'] && !incidents.counts.unreachable
  const onDecodeError = (name, error, frame) =>
    incidents.add('attacker-decode-error', `${name}'s stock decoder failed on a server frame: ${error.stack ?? error}`,
      [{ attacker: 'server', number: 0, base: 'server', steps: [], frame }, ...recent[name].slice(-1)])
  const attackers = ['editor', 'reader'].map((role) => new Attacker({
    name: role,
    url: `${request.url}/${request.key}`,
    cookie: request.cookies[role],
    origin: request.origin,
    answerTimeout: request.answerTimeout,
    onDecodeError
  }))
  await Promise.all(attackers.map((attacker) => attack({
    attacker, gen: prng.create(streamSeed(request.seed, attacker.name)), corpus, ctx, until, request, incidents, recent, sent
  })))
  await Promise.all(attackers.map((attacker) => attacker.close()))

  clearInterval(editing)
  const converged = await waitFor(() => settled(watchers), SETTLE_TIMEOUT)
  const reports = watchers.map((watcher) => watcher.report())
  watchers.forEach((watcher) => watcher.destroy())
  await sleep(200)
  console.warn = warn
  return {
    seed: request.seed,
    frames: sent,
    connections: Object.fromEntries(attackers.map((attacker) => [attacker.name, attacker.connections])),
    corpusSize: corpus.length,
    closes,
    converged,
    incidents: incidents.list,
    incidentCounts: incidents.counts,
    watchers: reports
  }
}

// A stock client that joins after everything: what a newcomer gets from the server.
const fresh = async (request) => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(request.url, request.key, doc, {
    disableBc: true,
    WebSocketPolyfill: socketClassWith(headersFor({ cookie: request.cookies.editor, origin: request.origin }))
  })
  const synced = await waitFor(() => provider.synced, SETTLE_TIMEOUT)
  const summary = summarise(doc)
  provider.destroy()
  doc.destroy()
  await sleep(200)
  return { synced, summary }
}

const modes = {
  run,
  fresh,
  summarise: async (request) => summariseUpdates(request.updates.map((update) => Buffer.from(update, 'base64')))
}

const request = await readRequest()
// Exit only once the result is written: a pipe takes 64 KiB at a time, and an early
// exit cuts a longer result short.
process.stdout.write(JSON.stringify(await modes[request.mode](request)) + '\n', () => process.exit(0))
