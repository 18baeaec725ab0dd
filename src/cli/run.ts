// What each command does on the client side: one or a few requests to the daemon, and output.
import { readFileSync } from 'node:fs'
import { resolve as resolvePath } from 'node:path'
import type { Parsed } from './parse.js'
import { SETTINGS, metaFlags } from './commands.js'
import { call, rows, session, NotRunning } from './client.js'
import { printer, out, statusText, statsText, ringText, whenReaderGone, watchReader, printable } from './output.js'
import { formatLogRow } from '../control/log-format.js'
import { resolveDatadir, resolvePaths, type Paths } from '../control/paths.js'
import {
  MAX_ITEMS_PER_REQUEST, ADD_WINDOW, type StatusRow, type KnownRow, type ConnectionRow, type ServerRow, type SearchRow, type LogRow, type StatsRow,
  type AddressRow, type SubnetRow, type ClearedRow, type IdRow, type ConnectRow, type IntroduceRow, type OwnerRow,
  type OfferedRow, type OffersRow, type WithdrawRow, type FindRow, type ReloadRow, type SendRow, type MessageRow
} from '../control/protocol.js'
import { dialablePinned, messageJson, UsageError } from './parse.js'
import { bindHost, notAPeer, parseAddress, formatPinned, type Address } from '../transport/address.js'

/** How long `close` waits for the daemon to be gone. */
export const STOP_TIMEOUT = 15_000

/** A failure at run time: printed as one line, exit status 1. */
export class Failure extends Error {}

interface Ctx {
  parsed: Parsed
  paths: Paths
  flags: Record<string, unknown>
  args: Record<string, unknown>
}

/**
 * A command's client side. `run` does it and hands each row it prints to `print`; `text` says
 * how a row reads as text, one line or a few. With --json the row itself prints, one NDJSON
 * line: which of the two is decided in one place, `printer` (output.ts).
 */
interface Command<T> {
  text? (row: T): string
  run (ctx: Ctx, print: (row: T) => void): Promise<unknown>
}

/** A command with its row type checked where it is written; the table holds them all alike. */
const command = <T> (c: Command<T>): Command<T> => c

/** The settings flags given on the command line, as arguments for a `server` child. */
function settingArgs (flags: Record<string, unknown>): string[] {
  const out: string[] = []
  for (const f of SETTINGS) {
    const v = flags[f.name]
    if (v === undefined) continue
    for (const one of Array.isArray(v) ? v : [v]) out.push(`--${f.name}=${String(one)}`)
  }
  return out
}

/** Is pid running? A zombie (exited, not yet reaped by its new parent) is not. */
function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

/** Lines for the user on stderr, each as `peernet: …` (output stays clean for pipes). */
function warn (lines: string[]): void {
  if (lines.length > 0) process.stderr.write(lines.map(l => `peernet: ${l}\n`).join(''))
}

function notRunning (ctx: Ctx, why: string): Failure {
  // A socket the user named may be the only thing wrong: a daemon can run for the data dir elsewhere.
  if (ctx.flags.sockfile !== undefined) {
    return new Failure(`no daemon answers on ${ctx.paths.socket}${why}; start one with \`peernet daemon --sockfile ${ctx.paths.socket}\``)
  }
  return new Failure(`no daemon is running for ${ctx.paths.datadir}${why}; start one with \`peernet daemon\``)
}

/**
 * Run the command; when no daemon answers, start one if the command allows it and try once
 * more. (No status probe first: a client command costs one round trip.)
 */
async function reaching (ctx: Ctx, fn: (ctx: Ctx) => Promise<unknown>): Promise<void> {
  try {
    await fn(ctx)
    return
  } catch (err) {
    if (!(err instanceof NotRunning)) throw err
  }
  const { reach } = ctx.parsed.command
  if (reach === 'running') throw notRunning(ctx, '')
  if (ctx.flags.autostart === false) throw notRunning(ctx, ' (auto-start is off)')
  const { startDaemon, startWarnings } = await import('./start.js')
  const r = await startDaemon(ctx.paths, [], ctx.flags.sockfile as string | undefined)
  if (!r.already) warn([`started a daemon (pid ${r.pid}) for ${ctx.paths.datadir}`, ...await startWarnings(ctx.paths.socket, r.status)])
  await fn(ctx)
}

/**
 * Stream a listing: each row to print as it arrives. Resolves to the number of rows. `line`,
 * if given, says what a row prints as from its JSON text, or null when the row must be parsed.
 */
async function listing<T> (ctx: Ctx, method: string, params: Record<string, unknown>, print: (row: T) => void, line?: (json: string) => string | null): Promise<number> {
  let n = 0
  const fromText = line === undefined
    ? undefined
    : (json: string): boolean => {
        const l = line(json)
        if (l === null) return false
        n++
        out(l)
        return true
      }
  const c = call(ctx.paths.socket, method, params, row => {
    n++
    print(row as T)
  }, fromText)
  whenReaderGone(c.cancel)
  await c.done
  return n
}

async function one<T> (ctx: Ctx, method: string, params: Record<string, unknown> = {}): Promise<T> {
  const [row] = await rows<T>(ctx.paths.socket, method, params)
  return row
}

/**
 * listen's --cert and --key (the parser let them through for wss only), made absolute here,
 * where the user's working directory is known: the daemon reads them from its own.
 */
function tlsFiles (ctx: Ctx): { cert?: string, key?: string } {
  const { cert, key } = ctx.flags as { cert?: string, key?: string }
  return cert === undefined || key === undefined ? {} : { cert: resolvePath(cert), key: resolvePath(key) }
}

/**
 * A known row whose JSON text has no escapes: `{"address":"A","saved":B,"subnets":["S",…]}`
 * (and `,"id":"…"` before the brace where an id is known) exactly as JSON.stringify writes it (no space, keys in this order, no backslash or control
 * character in a string), so the text alone says what the row prints as: with --json that
 * very text, else A, then a tab and the subnets joined by commas when there are any (as `text`
 * above). Any other row (a name with a quote, say) is parsed and printed as every row is.
 */
const PLAIN_KNOWN = /^\{"address":"([^"\\\x00-\x1f]*)","saved":(?:true|false),"subnets":\[((?:"[^"\\\x00-\x1f]*"(?:,"[^"\\\x00-\x1f]*")*)?)\](?:,"id":"[0-9a-f]{64}")?\}$/

function plainKnown (asJson: boolean): (json: string) => string | null {
  return json => {
    const m = PLAIN_KNOWN.exec(json)
    if (m === null) return null
    if (asJson) return json
    return m[2] === '' ? m[1] : `${m[1]}\t${m[2].replaceAll('"', '')}`
  }
}

/** Does the daemon tell peers an address of the service's protocol and port (`--advertise`)? */
async function advertised (ctx: Ctx, service: ServerRow): Promise<boolean> {
  const own = await rows<{ address: string }>(ctx.paths.socket, 'own', {})
  return own.some(({ address }) => {
    const a = tryParse(address)
    return a !== null && a.scheme === service.protocol && a.port === service.port
  })
}

function tryParse (address: string): Address | null {
  try {
    return parseAddress(address)
  } catch {
    return null
  }
}

/** The first word of a line: past any blanks, up to the next whitespace (never past a newline). */
const FIRST_WORD = /[^\S\n]*(\S*)/y

/**
 * Read addresses for `add -`: the first word of each line (so `known` output works), lines
 * split at \n only. One pass over the input with a sticky regex, not a string and an array
 * per line: `add -` of 100,000 lines spends its first moments here, before anything is sent.
 */
let stdinAddresses: string[] | null = null
function readStdinAddresses (): string[] {
  if (stdinAddresses) return stdinAddresses
  const text = readFileSync(0, 'utf8')
  const addrs: string[] = []
  for (let at = 0, line = 1; at <= text.length; line++) {
    const end = text.indexOf('\n', at)
    FIRST_WORD.lastIndex = at
    const first = (FIRST_WORD.exec(text) as RegExpExecArray)[1]
    at = end < 0 ? text.length + 1 : end + 1
    if (first === '' || first.startsWith('#')) continue
    try {
      const href = dialablePinned(first)
      // The common case, an address already in its normal form, keeps the slice of the input.
      addrs.push(href === first ? first : href)
    } catch (err) {
      // A bad address is a usage error wherever it comes from: arguments or stdin.
      throw new UsageError(`stdin line ${line}: ${(err as Error).message}; nothing was added`)
    }
  }
  stdinAddresses = addrs
  return addrs
}

/**
 * Send a list (addresses, subnets) in requests of at most MAX_ITEMS_PER_REQUEST, the daemon's
 * bound on one request, so a long command line or `add -` never meets it. Duplicates go once.
 * The answers are merged into `row`, which names the keys the command prints, in order, with
 * their values when nothing was sent (`add -` of an empty stdin): counts summed, lists joined.
 * With a `window` over 1, that many requests are in flight at once on one connection; the
 * answers are still taken in order, and the first error ends it, saying how many were done.
 * Only for a write whose requests stand or fall together (see `add`).
 */
async function inPieces<T extends Record<string, number | string[]>> (ctx: Ctx, method: string, key: string, items: string[], row: T, window = 1): Promise<T> {
  const list = [...new Set(items)]
  const total: Record<string, number | string[]> = { ...row }
  const pieces: string[][] = []
  for (let i = 0; i < list.length; i += MAX_ITEMS_PER_REQUEST) pieces.push(list.slice(i, i + MAX_ITEMS_PER_REQUEST))
  const s = pieces.length > 1 && window > 1 ? session(ctx.paths.socket) : null
  const send = async (piece: string[]): Promise<Record<string, unknown>> => {
    const params = { [key]: piece }
    return s === null ? await one(ctx, method, params) : (await s.send(method, params))[0] as Record<string, unknown>
  }
  const sent: Array<Promise<Record<string, unknown>>> = []
  try {
    for (let k = 0; k < pieces.length; k++) {
      while (sent.length < Math.min(pieces.length, k + window)) {
        const answer = send(pieces[sent.length])
        answer.catch(() => {}) // taken (and thrown) in order below
        sent.push(answer)
      }
      let r: Record<string, unknown>
      try {
        r = await sent[k]
      } catch (err) {
        if (k > 0) (err as Error).message += ` (the first ${k * MAX_ITEMS_PER_REQUEST} of ${list.length} were done)`
        throw err
      }
      for (const [name, sum] of Object.entries(total)) {
        total[name] = typeof sum === 'number' ? sum + (r[name] as number) : [...sum, ...(r[name] as string[])]
      }
    }
  } finally {
    s?.close()
  }
  return total as T
}

/**
 * May `add` send n addresses with ADD_WINDOW requests in flight? Only if no request of it can
 * meet MAX_SAVED however they fall: then a request fails only as every later one would (a daemon
 * stopping, a disk that refuses writes), and what was done when one fails is what it says.
 */
async function roomToPipeline (ctx: Ctx, n: number): Promise<boolean> {
  if (n <= MAX_ITEMS_PER_REQUEST) return false
  const s = await one<StatusRow>(ctx, 'status')
  return s.saved + n <= s.limits.maxSaved
}

const addresses = (n: number): string => `${n} address${n === 1 ? '' : 'es'}`

/** "joined a b", "joined a (already joined: b)", "joined nothing (already joined: b)". */
function changedText (verb: string, changed: string[], rest: string[], why: string): string {
  const head = `${verb} ${changed.length > 0 ? changed.join(' ') : 'nothing'}`
  return rest.length > 0 ? `${head} (${why}: ${rest.join(' ')})` : head
}

/** What `daemon` prints: the daemon's pid, whether this call started it, settings it ignored. */
interface DaemonRow { pid: number, started: boolean, socket: string, notApplied?: string[] }

const commands: Record<string, Command<unknown>> = {
  server: command({
    async run (ctx) {
      const { runServer } = await import('../daemon/main.js')
      await runServer(ctx.paths, ctx.flags)
    }
  }),
  daemon: command({
    text: (r: DaemonRow) => r.started ? `peernet daemon started (pid ${r.pid})` : `peernet daemon is already running (pid ${r.pid})`,
    async run (ctx, print) {
      const { startDaemon, startWarnings, notApplied } = await import('./start.js')
      const r = await startDaemon(ctx.paths, settingArgs(ctx.flags), ctx.flags.sockfile as string | undefined)
      const skipped = r.already ? notApplied(ctx.flags, r.status.settings, SETTINGS.map(f => f.name)) : []
      print({ pid: r.pid, started: !r.already, socket: ctx.paths.socket, ...(skipped.length > 0 ? { notApplied: skipped } : {}) })
      if (!r.already) warn(await startWarnings(ctx.paths.socket, r.status))
      if (skipped.length > 0) {
        warn([`${skipped.map(n => `--${n}`).join(' ')} not applied: settings take effect when a daemon starts; run \`peernet close\`, then \`peernet daemon\` with them, or keep them in ${ctx.paths.config}`])
      }
    }
  }),
  close: command({
    text: (r: { pid: number, stopped: true }) => `peernet daemon stopped (pid ${r.pid})`,
    async run (ctx, print) {
      const s = await one<StatusRow>(ctx, 'status')
      await one(ctx, 'close')
      // Return once the process is gone, so a `daemon` right after starts a fresh one.
      const deadline = Date.now() + STOP_TIMEOUT
      while (processAlive(s.pid)) {
        if (Date.now() > deadline) throw new Failure(`the daemon (pid ${s.pid}) did not stop within ${STOP_TIMEOUT / 1000} s; see ${ctx.paths.logfile}`)
        await new Promise(resolve => setTimeout(resolve, 20))
      }
      print({ pid: s.pid, stopped: true })
    }
  }),
  status: command({
    text: (r: StatusRow & { cleared?: number }) => statusText(r) + (r.cleared === undefined ? '' : `\ncleared ${r.cleared} warning${r.cleared === 1 ? '' : 's'}`),
    async run (ctx, print) {
      const s = await one<StatusRow>(ctx, 'status')
      // Shown once more as they were, then forgotten.
      if (ctx.flags['clear-warnings'] !== true) return print(s)
      print({ ...s, cleared: (await one<ClearedRow>(ctx, 'clear-warnings')).cleared })
    }
  }),
  log: command({
    text: (r: LogRow) => formatLogRow(r),
    async run (ctx, print) {
      const follow = ctx.flags.follow !== false
      if (follow) watchReader()
      await listing(ctx, 'log', { lines: ctx.flags.lines, follow }, print)
      // A follow ends only when the daemon stops (cleanly: a kill is an error).
      if (follow) warn(['the daemon stopped'])
    }
  }),
  known: command({
    text: (r: KnownRow) => r.subnets.length > 0 ? `${r.address}\t${r.subnets.join(',')}` : r.address,
    run: (ctx, print) => listing(ctx, 'known', {}, print, plainKnown(ctx.flags.json === true))
  }),
  own: command({
    text: (r: AddressRow & { id?: string }) => formatPinned({ id: r.id ?? null, address: r.address }),
    async run (ctx, print) {
      if (ctx.flags.ids !== true) return await listing(ctx, 'own', {}, print)
      // Plain addresses unless asked: scripts that read them keep working.
      const { id } = await one<IdRow>(ctx, 'id')
      return await listing(ctx, 'own', {}, (r: AddressRow) => print({ id, address: r.address }))
    }
  }),
  id: command({
    text: (r: IdRow) => r.id,
    run: async (ctx, print) => print(await one(ctx, 'id'))
  }),
  owner: command({
    // Metadata after the two columns scripts read, as K=V, escaped: the owner wrote it.
    text: (r: OwnerRow) => [r.id, r.addresses[0] ?? '-', ...Object.entries(r.metadata ?? {}).map(([k, v]) => printable(`${k}=${v}`))].join('\t'),
    run: async (ctx, print) => print(await one(ctx, 'owner', { value: ctx.args.value }))
  }),
  ring: command({
    text: ringText,
    run: async (ctx, print) => print(await one(ctx, 'ring'))
  }),
  connections: command({
    // The first column as before (scripts read it); the id beside an address; a link no address
    // names says what carries it when that is not the usual (a WebRTC link: `ID  webrtc`, a
    // relayed one: `ID  relay`).
    text: (r: ConnectionRow) => r.address === null ? (r.transport === 'webrtc' || r.transport === 'relay' ? `${r.id}\t${r.transport}` : r.id) : `${r.address}\t${r.id}`,
    run: (ctx, print) => listing(ctx, 'connections', {}, print)
  }),
  subnets: command({
    text: (r: SubnetRow) => r.subnet,
    run: (ctx, print) => listing(ctx, 'subnets', {}, print)
  }),
  servers: command({
    text: (r: ServerRow) => r.state === 'failed' ? `${r.address}\tfailed: ${r.error ?? 'unknown reason'}` : r.address,
    run: (ctx, print) => listing(ctx, 'servers', {}, print)
  }),
  search: command({
    // A member the ring knows without an address: its id (connect by id reaches such nodes).
    text: (r: SearchRow) => r.address ?? r.id ?? '',
    async run (ctx, print) {
      const found = await listing(ctx, 'search', { subnet: ctx.args.subnet, max: ctx.flags.max, timeout: ctx.flags.timeout, hops: ctx.flags.hops, flood: ctx.flags.flood }, print)
      // Nothing found: if that is because this node has nobody to ask, say so.
      if (found === 0 && (await one<StatusRow>(ctx, 'status')).connections === 0) {
        throw new Failure('no answers: this node has no connections to search through; connect to a peer first (peernet connect ADDR)')
      }
    }
  }),
  offer: command({
    text: (r: OfferedRow) => `${r.offered ? 'offered' : 'already offered'} ${r.name} ${r.url}`,
    async run (ctx, print) {
      const meta = metaFlags(ctx.flags.meta) as Record<string, string> | undefined
      print(await one(ctx, 'offer', { name: ctx.args.service, url: ctx.args.url, version: ctx.flags.version, meta }))
    }
  }),
  withdraw: command({
    text: (r: WithdrawRow) => r.withdrawn.length > 0
      ? r.withdrawn.map(o => `withdrew ${o.name} ${o.url}${o.source === 'file' ? ' (services.json, until it changes)' : o.source === 'listen' ? ' (until the server is opened again)' : ''}`).join('\n')
      : `withdrew nothing (${r.name}${r.url === null ? '' : ' ' + r.url} is not offered)`,
    run: async (ctx, print) => print(await one(ctx, 'withdraw', { name: ctx.args.service, url: ctx.args.url }))
  }),
  offers: command({
    text: (r: OffersRow) => `${r.name}\t${r.url}${r.source === 'offer' ? '' : '\t' + r.source}`,
    run: (ctx, print) => listing(ctx, 'offers', {}, print)
  }),
  find: command({
    // What the offering node wrote, shown as data: a control character cannot move the cursor or recolour the terminal.
    text: (r: FindRow) => printable(r.url),
    run: (ctx, print) => listing(ctx, 'find', { name: ctx.args.service, max: ctx.flags.max, timeout: ctx.flags.timeout }, print)
  }),
  reload: command({
    text: (r: ReloadRow) => r.changed
      ? `${r.file}: offering ${r.services} service${r.services === 1 ? '' : 's'}${r.left > 0 ? ` (${r.left} left out: over MAX_OFFERS)` : ''}`
      : `${r.file}: unchanged (${r.services} service${r.services === 1 ? '' : 's'})`,
    run: async (ctx, print) => print(await one(ctx, 'reload'))
  }),
  send: command({
    text: (r: SendRow) => `acknowledged by ${r.to} (${r.ms} ms)`,
    async run (ctx, print) {
      const arg = ctx.args.message as string
      // `-`: the message is stdin's JSON, checked as an argument is (a usage error, exit 2).
      const json = arg === '-' ? messageJson(readFileSync(0, 'utf8'), 'stdin') : arg
      print(await one(ctx, 'send', { to: ctx.args.id, message: JSON.parse(json), timeout: ctx.flags.timeout }))
    }
  }),
  messages: command({
    // What another node wrote, shown as data: one line, no control character reaches the terminal.
    text: (r: MessageRow) => `${new Date(r.time).toISOString()} ${r.from} ${printable(JSON.stringify(r.message))}`,
    async run (ctx, print) {
      const follow = ctx.flags.follow !== false
      if (follow) watchReader()
      await listing(ctx, 'messages', { follow }, print)
      if (follow) warn(['the daemon stopped'])
    }
  }),
  connect: command({
    text: (r: ConnectRow) => r.path === 'dial-back'
      ? `connected to ${r.id ?? ''} (it dialed back)`
      : r.path === 'linked'
        ? `already connected to ${r.id ?? ''}${r.address === null ? '' : ` at ${r.address}`}`
        : r.path === 'webrtc' || r.path === 'relay' ? `connected to ${r.id ?? ''} over ${r.path}` : `connected to ${r.address ?? r.id ?? ''}`,
    run: async (ctx, print) => print(await one(ctx, 'connect', { address: ctx.args.addr }))
  }),
  introduce: command({
    text: (r: IntroduceRow) => `connected to ${r.id}${r.address === null ? '' : ` at ${r.address}`} (${r.path === 'dial-back' ? 'it dialed back' : r.path}), introduced by ${r.introducer}`,
    run: async (ctx, print) => print(await one(ctx, 'introduce', ctx.args.peer === undefined ? {} : { peer: ctx.args.peer }))
  }),
  disconnect: command({
    text: (r: AddressRow) => `disconnected from ${r.address}`,
    run: async (ctx, print) => print(await one(ctx, 'disconnect', { address: ctx.args.addr }))
  }),
  add: command({
    text: (r: { added: number, already: number }) => `added ${addresses(r.added)}${r.already > 0 ? `, ${r.already} already known` : ''}`,
    async run (ctx, print) {
      const list = (ctx.args.addrs as string[]).flatMap(a => a === '-' ? readStdinAddresses() : [a])
      const window = await roomToPipeline(ctx, list.length) ? ADD_WINDOW : 1
      print(await inPieces(ctx, 'add', 'addresses', list, { added: 0, already: 0 }, window))
    }
  }),
  rm: command({
    text: (r: { removed: number, unknown: number }) => `removed ${addresses(r.removed)}${r.unknown > 0 ? ` (${r.unknown} not known)` : ''}`,
    run: async (ctx, print) => print(await inPieces(ctx, 'rm', 'addresses', ctx.args.addrs as string[], { removed: 0, unknown: 0 }))
  }),
  join: command({
    text: (r: { joined: string[], already: string[] }) => changedText('joined', r.joined, r.already, 'already joined'),
    run: async (ctx, print) => print(await inPieces(ctx, 'join', 'subnets', ctx.args.subnets as string[], { joined: [], already: [] }))
  }),
  part: command({
    text: (r: { parted: string[], notJoined: string[] }) => changedText('parted', r.parted, r.notJoined, 'not joined'),
    run: async (ctx, print) => print(await inPieces(ctx, 'part', 'subnets', ctx.args.subnets as string[], { parted: [], notJoined: [] }))
  }),
  listen: command({
    text: (r: ServerRow) => r.address,
    async run (ctx, print) {
      const host = bindHost(ctx.flags.host as string)
      const r = await one<ServerRow>(ctx, 'listen', { protocol: ctx.args.protocol, port: ctx.flags.port, host, ...tlsFiles(ctx) })
      print(r)
      // Bound to every interface: no address to tell peers follows from that, so none is told,
      // unless the daemon advertises one of this protocol and port (the README's other-machine setup).
      // A STUN server is no peer address: it is offered as a service, never advertised.
      if (r.protocol !== 'stun' && notAPeer(r.host) !== null && !(await advertised(ctx, r))) {
        process.stderr.write(`peernet: ${r.address} listens on every interface but is not advertised to peers; ` +
          `say where others reach it with the daemon setting --advertise ${r.protocol}://HOST:${r.port} (or "advertise" in config.json)\n`)
      }
    }
  }),
  unlisten: command({
    text: (r: AddressRow) => `closed ${r.address}`,
    run: async (ctx, print) => print(await one(ctx, 'unlisten', { address: ctx.args.addr }))
  }),
  stats: command({
    text: statsText,
    run: async (ctx, print) => print(await one<StatsRow>(ctx, 'stats', { address: ctx.args.addr }))
  })
}

export async function run (parsed: Parsed, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const flags = parsed.flags
  const paths = resolvePaths(resolveDatadir(flags.datadir as string | undefined, env), flags.sockfile as string | undefined, env)
  const ctx: Ctx = { parsed, paths, flags, args: parsed.args }
  const c = commands[parsed.command.name]
  const print = printer(flags.json === true, c.text)
  const go = (ctx: Ctx): Promise<unknown> => c.run(ctx, print)
  if (parsed.command.reach === 'local') await go(ctx)
  else await reaching(ctx, go)
}
