// A method of the control socket, as the daemon answers it: its name, the check of its params,
// and its run, which sends rows of one type. Each file of methods/ holds the methods of one
// concern of the daemon's API; index.ts registers them all in one table.
import type { Peernet } from '../../node/node.js'
import type { Paths } from '../../control/paths.js'
import type { Warnings } from '../../table/warnings.js'
import type { Reply$ } from '../control.js'
import type { EventLog } from '../log.js'
import type { Services } from '../services.js'
import type { Params } from '../params.js'
import type { Reload } from '../service-file.js'
import type { SearchStats } from '../search-stats.js'
import type { Inbox } from '../inbox.js'

/** What the methods may use of the daemon (the Daemon is one). */
export interface DaemonContext {
  readonly node: Peernet
  readonly services: Services
  readonly log: EventLog
  /** Messages by id for this node, held for `messages` readers. */
  readonly inbox: Inbox
  readonly warnings: Warnings
  /** The settings as loaded: flags over config.json. */
  readonly settings: Record<string, unknown>
  readonly paths: Paths
  readonly version: string
  readonly startedAt: number
  /** Resolves when a shutdown begins: a log follower's answer ends there. */
  readonly stopping: Promise<void>
  /** Control clients connected now. */
  controlClients: () => number
  shutdown: () => Promise<void>
  /** The searches and finds clients asked for (counts, and time to the first row). */
  readonly searchStats: SearchStats
  /** Read services.json again (throws a one-line TypeError when it is not right). */
  reloadServices: () => Reload
}

export interface Method<P = unknown, R = unknown> {
  /** Its name on the socket (METHODS in control/protocol.ts lists them for clients). */
  name: string
  /** Check and normalise the request's params before anything is done (throws EINVAL). */
  params: (params: Params) => P
  /**
   * Answer: each row goes to reply; an error is a ControlError with its code. (A method's
   * signature, not a property's, so the table can hold methods of every params type alike.)
   */
  run (ctx: DaemonContext, params: P, reply: Reply$<R>): Promise<void>
}

/** A method with its types checked where it is written; the table holds them all alike. */
export function method<P, R> (m: Method<P, R>): Method<P, R> { return m }

/** The params check of a method that takes none (whatever is sent is ignored, as always). */
export function none (): undefined { return undefined }

/** A method that answers with one row: what `answer` resolves to. */
export function single<P, R> (name: string, params: (params: Params) => P, answer: (ctx: DaemonContext, params: P) => Promise<R>): Method<P, R> {
  return { name, params, run: async (ctx, p, reply) => reply.row(await answer(ctx, p)) }
}

/** A method that takes no params and answers with a row per item of `rows`. */
export function listing<R> (name: string, rows: (ctx: DaemonContext) => Iterable<R> | AsyncIterable<R>): Method<undefined, R> {
  return {
    name,
    params: none,
    async run (ctx, _, reply) {
      for await (const row of rows(ctx)) await reply.row(row)
    }
  }
}
