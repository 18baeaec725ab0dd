// Remote actions (the p2p seed's `handle` and `remote(...).run`) over routed envelopes: a
// request {action, payload} sealed by the asker to the target's id, a reply {re, ok, result |
// error} sealed by the target to the asker. Both are signed end to end (envelope.ts), so a node
// on the route can drop them but neither forge nor alter them; the reply names the request's
// nonce (`re`), so an old reply of the same target cannot stand in for a new one.
//
// Sans I/O like the rest of the ring: the way an envelope travels is the `route` callback (the
// node's ring lookup, or a test's), time is `now()`, and how long a run waits is its envelope's
// expiry, which the ring's lookup honours (lookups.ts). A receiver refuses, before any handler
// runs: an envelope failing checkEnvelope, a replay (NonceCache), a sender over its rate
// (KeyedBuckets), and anything past MAX_HANDLING handlers at work. Those refusals go back as
// unsigned errors (the sender's id is not to be trusted, or it is flooding); what a handler
// says (its result, its error, an unknown action) goes back signed.
import { sealEnvelope, checkEnvelope, bodyOf, NonceCache, MAX_ENVELOPE_TTL, MAX_ENVELOPE_BODY, type Envelope } from './envelope.js'
import type { EnvelopeAnswer } from './protocol.js'
import { RUN_TIMEOUT } from '../wire/record.js'
import { idOf, type KeyPair } from '../node/identity.js'
import type { Random } from '../util/random.js'
import { KeyedBuckets } from '../util/rate.js'

export { RUN_TIMEOUT }
/** Longest action name, in characters: names are labels ("handle/foo"), not data. */
export const MAX_ACTION_NAME = 64
/** Longest error text a reply carries, in characters: one line, never a stack. */
export const MAX_ACTION_ERROR = 200
/**
 * Runs of this node's own waiting for their replies at once: past it, a run fails at once
 * (each holds a routed lookup, and the ring's MAX_PENDING lookups are shared with searches).
 */
export const MAX_RUNS = 256
/**
 * Requests one sender may make, per second, of one node's handlers, and its burst: enough for
 * an app's calls, while a flood from one id is refused before any handler runs.
 */
export const ACTION_RATE = 10
export const ACTION_BURST = 20
/**
 * Senders whose rate a node remembers. Past it, the one heard from least recently is forgotten
 * (its next request starts with a full burst): ids cost nothing to make, so no per-sender table
 * may grow without end; MAX_HANDLING bounds what many ids can do together.
 */
export const MAX_RATE_SENDERS = 1024
/**
 * Handlers at work (async, not yet answered) at once on a node: past it, a request is refused
 * as busy. Many ids (free to make) can each stay under ACTION_RATE; this bounds them all.
 */
export const MAX_HANDLING = 128
/**
 * Action names the library keeps for its own requests (messages: messages.ts): a user's handler
 * of one could take the node's messages, and a user's run of one would pose as the library.
 */
export const RESERVED_PREFIX = 'peernet.'
/**
 * Replies a node keeps, by request, until the request expires: a request that comes again gets
 * the same signed reply, its handler not run again. A lookup is sent again over another link when
 * the one it went by goes down (lookups.ts); when the first copy had arrived, the second was
 * refused as a replay, and the asker heard a refusal for a request that was carried out (a
 * message delivered, yet `send` failed). Past this many, the oldest is forgotten and a replay of
 * its request is refused as before.
 */
export const MAX_KEPT_REPLIES = 256

const ID = /^[0-9a-f]{64}$/

export type ActionHandler = (payload: unknown, ctx: { from: string }) => unknown
export type Outcome = { ok: true, result: unknown } | { ok: false, error: string }
/**
 * Routes an envelope to its `to` (first to the linked node `via` when given: an introducer
 * that holds a link to the target); cb gets the reply envelope, or why there is none.
 */
export type Route = (envelope: Envelope, cb: (err: Error | null, reply?: Envelope) => void, via?: string) => void

/** Why a run failed: the target said so (`remote`), no reply came in time, the reply was refused, or no way there. */
export type ActionErrorCode = 'remote' | 'timeout' | 'refused' | 'unreachable'
export class ActionError extends Error {
  constructor (message: string, readonly code: ActionErrorCode) {
    super(message)
    this.name = 'ActionError'
  }
}

/** Adds fn as the handler of `name` to handlers (replacing any); returns a function that removes it. */
export function addHandler (handlers: Map<string, ActionHandler>, name: string, fn: ActionHandler): () => void {
  const why = actionNameProblem(name) ?? reservedProblem(name)
  if (why !== null) throw new TypeError(`handle: ${why}`)
  if (typeof fn !== 'function') throw new TypeError('handle: the handler must be a function')
  handlers.set(name, fn)
  return () => { if (handlers.get(name) === fn) handlers.delete(name) }
}

/** Why name is no action name, or null. */
export function actionNameProblem (name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_ACTION_NAME) return `an action name must be a string of 1..${MAX_ACTION_NAME} characters`
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'an action name must not hold control characters'
  return null
}

/** Why name may not be a user's action (it is the library's own), or null. */
export function reservedProblem (name: string): string | null {
  return name.startsWith(RESERVED_PREFIX) ? `action names starting with ${RESERVED_PREFIX} are the library's own` : null
}

/** Bytes the body's JSON text takes in an envelope (as envelopeShapeProblem counts them). */
function bodyBytes (text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8')
}

/** value as JSON text, or a TypeError saying what it is (circular, a BigInt, ...). */
function jsonOf (value: unknown, what: string): string {
  try {
    return JSON.stringify(value) ?? 'null'
  } catch (err) {
    throw new TypeError(`${what} must be JSON-serialisable (${oneLine(err)})`)
  }
}

/** An error as one line of at most MAX_ACTION_ERROR characters: its message, never its stack. */
export function oneLine (err: unknown): string {
  let text: string
  try {
    text = err instanceof Error ? err.message : String(err)
  } catch {
    text = ''
  }
  return (text.split('\n')[0].trim() || 'the action failed').slice(0, MAX_ACTION_ERROR)
}

/**
 * The request envelope: {action, payload} from keyPair's id to `to`, valid until expires. Throws
 * a clear error when the body would not fit MAX_ENVELOPE_BODY, before anything is sent.
 */
export function sealRequest (keyPair: KeyPair, to: string, action: string, payload: unknown, expires: number, random: Random): Envelope {
  const body = { action, payload }
  const size = bodyBytes(jsonOf(body, 'the payload'))
  if (size > MAX_ENVELOPE_BODY) throw new RangeError(`the payload is too large: the request is ${size} bytes, over MAX_ENVELOPE_BODY (${MAX_ENVELOPE_BODY})`)
  return sealEnvelope(keyPair, to, body, expires, random)
}

/** The signed reply to request: its outcome, or an error saying why the result cannot travel. */
export function sealReply (keyPair: KeyPair, request: Envelope, outcome: Outcome, random: Random): Envelope {
  const base = { re: request.nonce }
  let body: object = { ...base, ...outcome }
  try {
    const size = bodyBytes(jsonOf(body, 'the result'))
    if (size > MAX_ENVELOPE_BODY) body = { ...base, ok: false, error: `the result is too large: ${size} bytes, over MAX_ENVELOPE_BODY (${MAX_ENVELOPE_BODY})` }
  } catch (err) {
    body = { ...base, ok: false, error: oneLine(err) }
  }
  return sealEnvelope(keyPair, request.from, body, request.expires, random)
}

/** The {action, payload} of a checked request's body, or why it is none. */
export function requestOf (e: Envelope): { action: string, payload: unknown } | string {
  const b = bodyOf(e) as { action?: unknown, payload?: unknown } | undefined
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return 'the request body must be an object'
  const why = actionNameProblem(b.action)
  return why ?? { action: b.action as string, payload: b.payload }
}

/**
 * The outcome a reply carries, once it is shown to be the answer to our request `nonce` from
 * `target` to `me` (signed by target, valid now); else why it is refused.
 */
export function checkReply (reply: unknown, me: string, target: string, nonce: string, now: number): Outcome | string {
  const why = checkEnvelope(reply, me, now)
  if (why !== null) return why
  const e = reply as Envelope
  if (e.from !== target) return 'the reply is not from the target'
  const b = bodyOf(e) as { re?: unknown, ok?: unknown, result?: unknown, error?: unknown } | undefined
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return 'the reply body must be an object'
  if (b.re !== nonce) return 'the reply answers another request'
  if (b.ok === true) return { ok: true, result: b.result }
  if (b.ok === false && typeof b.error === 'string') return { ok: false, error: b.error.slice(0, MAX_ACTION_ERROR) }
  return 'the reply body is malformed'
}

export interface RemoteActionsOptions {
  keyPair: KeyPair
  random: Random
  now: () => number
  /** How a run's request travels (the ring's routed lookup, on a node). */
  route: Route
  /** The handlers by action name (a map the caller may keep filling: the node's, from before it was ready). */
  handlers?: Map<string, ActionHandler>
}

/** One node's remote actions: its handlers (the receiving side) and its runs (the asking side). */
export class RemoteActions {
  readonly id: string
  private readonly handlers: Map<string, ActionHandler>
  private readonly nonces = new NonceCache()
  private readonly rate: KeyedBuckets
  /** Requests whose (async) handlers are at work: from + nonce → when the request expires. */
  private readonly working = new Map<string, number>()
  /** Runs of ours waiting: how each ends (with an error, when the node closes). */
  private readonly waiting = new Set<(err: Error) => void>()
  /** Replies given (or being made), by from + nonce, until their request expires (MAX_KEPT_REPLIES). */
  private readonly kept = new Map<string, { expires: number, answer: EnvelopeAnswer | Promise<EnvelopeAnswer> }>()

  constructor (private readonly o: RemoteActionsOptions) {
    this.id = idOf(o.keyPair.publicKey)
    this.handlers = o.handlers ?? new Map()
    this.rate = new KeyedBuckets(ACTION_RATE, ACTION_BURST, MAX_RATE_SENDERS, o.now)
  }

  /** Runs of ours waiting, handlers of ours at work, senders whose rate is tracked. */
  get inFlight (): { runs: number, handling: number, senders: number } {
    return { runs: this.waiting.size, handling: this.working.size, senders: this.rate.size }
  }

  /** Handle action `name` with fn (replacing any handler it had); returns a function that removes it. */
  handle (name: string, fn: ActionHandler): () => void {
    return addHandler(this.handlers, name, fn)
  }

  /** Stop handling `name`; whether it was handled (never a name of the library's own). */
  unhandle (name: string): boolean {
    if (reservedProblem(name) !== null) return false
    return this.handlers.delete(name)
  }

  /**
   * Run action `name` on node `to` with payload; resolves to its result, rejects with an
   * ActionError (its error, a timeout, a refused reply, no way there). Bad arguments, an
   * oversize payload and MAX_RUNS reject at once, before anything is sent.
   */
  run (to: string, name: string, payload: unknown, timeout = RUN_TIMEOUT): Promise<unknown> {
    const why = typeof name === 'string' ? reservedProblem(name) : null
    if (why !== null) return Promise.reject(new TypeError(`run: ${why}`))
    return this.ask(to, name, payload, timeout, 'run')
  }

  /**
   * run() without the check for the library's own names: the library's requests (a message, a
   * dial-back, an introduction) go this way. `verb` starts every error's text ("run", "send").
   * `via`: a linked peer to hand the request to first (an introducer linked to the target).
   */
  ask (to: string, name: string, payload: unknown, timeout: number, verb: string, via?: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (typeof to !== 'string' || !ID.test(to)) throw new TypeError(`${verb}: the target must be a node id, 64 hex digits`)
      const why = actionNameProblem(name)
      if (why !== null) throw new TypeError(`${verb}: ${why}`)
      if (!Number.isSafeInteger(timeout) || timeout <= 0 || timeout > MAX_ENVELOPE_TTL) throw new RangeError(`${verb}: the timeout must be an integer of 1..${MAX_ENVELOPE_TTL} ms (MAX_ENVELOPE_TTL)`)
      if (this.waiting.size >= MAX_RUNS) throw new ActionError(`${verb}: MAX_RUNS (${MAX_RUNS}) runs are already waiting for replies`, 'unreachable')
      const request = sealRequest(this.o.keyPair, to, name, payload, this.o.now() + timeout, this.o.random)
      const what = verb === 'run' ? `run ${name} on ${to.slice(0, 12)}…` : `${verb} to ${to.slice(0, 12)}…`
      const end = (err: Error | null, reply?: Envelope): void => {
        if (!this.waiting.delete(end)) return
        if (err !== null || reply === undefined) {
          if (this.o.now() >= request.expires) return reject(new ActionError(`${what}: no reply within ${timeout} ms`, 'timeout'))
          return reject(new ActionError(`${what}: ${err?.message ?? 'no reply'}`, 'unreachable'))
        }
        const out = checkReply(reply, this.id, to, request.nonce, this.o.now())
        if (typeof out === 'string') reject(new ActionError(`${what}: reply refused: ${out}`, 'refused'))
        else if (out.ok) resolve(out.result)
        else reject(new ActionError(`${what}: ${out.error}`, 'remote'))
      }
      this.waiting.add(end)
      this.o.route(request, end, via)
    })
  }

  /** Ends every run still waiting with err (the node is closing: nothing will answer them). */
  close (err: Error): void {
    for (const end of [...this.waiting]) end(err)
  }

  /**
   * Whether MAX_HANDLING handlers are at work. A handler still at work when its request has
   * expired no longer counts (its reply could not be taken): one that never settles holds a
   * place only until then.
   */
  private busy (now: number): boolean {
    if (this.working.size < MAX_HANDLING) return false
    for (const [k, expires] of this.working) if (expires <= now) this.working.delete(k)
    return this.working.size >= MAX_HANDLING
  }

  /**
   * The answer to a request envelope for this node (RingCore's onEnvelope): refusals first
   * (unsigned, no handler runs), then the handler's outcome, signed, now or when it settles.
   */
  receive (e: Envelope): EnvelopeAnswer | Promise<EnvelopeAnswer> {
    const now = this.o.now()
    const why = checkEnvelope(e, this.id, now)
    if (why !== null) return { error: `refused: ${why}` }
    // The same request again (checked above: signed, for us, not expired): the same reply.
    const again = this.kept.get(e.from + e.nonce)
    if (again !== undefined) return again.answer
    // A replay is told apart before the rate is charged: a replayed request must not use up
    // its true sender's rate.
    if (this.nonces.has(e.from, e.nonce)) return { error: 'refused: a replayed request' }
    if (this.busy(now)) return { error: `refused: busy (MAX_HANDLING, ${MAX_HANDLING} requests at work)` }
    if (!this.rate.take(e.from)) return { error: `refused: over ACTION_RATE (${ACTION_RATE} requests a second, burst ${ACTION_BURST}) for this sender` }
    if (!this.nonces.accept(e.from, e.nonce, e.expires, now)) return { error: 'refused: a replayed request' }
    return this.keep(e, now, this.answer(e))
  }

  /** A reply kept for its request's life (see MAX_KEPT_REPLIES), the expired and the oldest past the bound forgotten. */
  private keep (e: Envelope, now: number, answer: EnvelopeAnswer | Promise<EnvelopeAnswer>): EnvelopeAnswer | Promise<EnvelopeAnswer> {
    for (const [k, v] of this.kept) {
      if (v.expires > now && this.kept.size < MAX_KEPT_REPLIES) break
      this.kept.delete(k)
    }
    this.kept.set(e.from + e.nonce, { expires: e.expires, answer })
    return answer
  }

  /** The signed reply to a request that passed every check: its handler's outcome, now or when it settles. */
  private answer (e: Envelope): EnvelopeAnswer | Promise<EnvelopeAnswer> {
    const reply = (outcome: Outcome): EnvelopeAnswer => sealReply(this.o.keyPair, e, outcome, this.o.random)
    const req = requestOf(e)
    if (typeof req === 'string') return reply({ ok: false, error: req })
    const fn = this.handlers.get(req.action)
    if (fn === undefined) return reply({ ok: false, error: `unknown action ${req.action}` })
    let out: unknown
    try {
      out = fn(req.payload, { from: e.from })
    } catch (err) {
      return reply({ ok: false, error: oneLine(err) })
    }
    if (!isThenable(out)) return reply({ ok: true, result: out })
    const key = e.from + e.nonce
    this.working.set(key, e.expires)
    return Promise.resolve(out).then(
      result => reply({ ok: true, result }),
      (err: unknown) => reply({ ok: false, error: oneLine(err) })
    ).finally(() => { this.working.delete(key) })
  }
}

function isThenable (x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as { then?: unknown }).then === 'function'
}
