// Printing: rows as text or NDJSON, flushed per line; a reader that goes away (EPIPE) ends
// the command quietly instead of with a trace. And the two rows whose text takes many lines.
import type { StatusRow, StatsRow, RingRow, RingNodeRow } from '../control/protocol.js'
import { fstatSync } from 'node:fs'

let onGone: (() => void) | null = null
let guarded = false

/**
 * process.stdout is made on first use, which costs start-up time: a command that prints
 * nothing never pays for it. Its first use installs the handler for a reader that went away.
 */
function stdout (): NodeJS.WriteStream {
  const s = process.stdout
  if (!guarded) {
    guarded = true
    s.on('error', (err: NodeJS.ErrnoException) => {
      onGone?.()
      if (err.code === 'EPIPE') process.exit(0)
      process.stderr.write(`peernet: cannot write output: ${err.message}\n`)
      process.exit(1)
    })
  }
  return s
}

/** Run fn when stdout's reader goes away (before the process exits quietly). */
export function whenReaderGone (fn: () => void): void { onGone = fn }

/**
 * While following (`log | head -n 1`), notice at once when the reader of a pipe goes away,
 * not only at our next write. Node cannot poll a pipe's write end for POLLERR; GNU tail -f
 * does exactly that, so a `tail -f /dev/null` sharing our stdout exits when the reader is
 * gone, and we go with it. `--pid` makes tail also end when we do, however we end: an exit
 * handler alone would miss a SIGKILL and leave tail behind. A tail without --pid (not GNU)
 * fails at once, and we end at the next line, as where tail is missing.
 */
export function watchReader (): void {
  let fifo = false
  try {
    fifo = fstatSync(1).isFIFO()
  } catch {}
  if (!fifo) return
  stdout()
  import('node:child_process').then(({ spawn }) => {
    const w = spawn('tail', ['-f', `--pid=${process.pid}`, '/dev/null'], { stdio: ['ignore', 'inherit', 'ignore'] })
    w.on('error', () => {})
    w.on('exit', (_code, signal) => {
      if (signal === 'SIGPIPE') {
        onGone?.()
        process.exit(0)
      }
    })
    w.unref()
    process.on('exit', () => w.kill())
  }).catch(() => {})
}

/**
 * Text a peer wrote, safe to print: C0 and C1 control characters, DEL, and the bidirectional
 * overrides that can make a line read as something else, shown as \xNN / \u{NNNN}; a
 * backslash as two, so an escape shown is always one.
 */
export function printable (s: string): string {
  return s.replace(/[\\\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, c => {
    if (c === '\\') return '\\\\'
    const n = c.charCodeAt(0)
    return n <= 0xff ? '\\x' + n.toString(16).padStart(2, '0') : '\\u{' + n.toString(16) + '}'
  })
}

let pending = ''

/**
 * Print one line. Lines printed in one turn of the event loop go out in one write (stdout to a
 * pipe is a synchronous syscall per write in Node): `known` streams many rows a turn, while
 * `log` still flushes each line as soon as it arrives.
 */
export function out (line: string): void {
  if (pending === '') process.nextTick(flush)
  pending += line + '\n'
}

function flush (): void {
  const text = pending
  pending = ''
  if (text !== '') stdout().write(text)
}

export function json (value: unknown): void {
  out(JSON.stringify(value))
}

/**
 * How a command prints its rows, decided here once for all: with --json each row as one line
 * of NDJSON, else as the command's text for it (a command that has none prints no rows).
 */
export function printer<T> (asJson: boolean, text: ((row: T) => string) | undefined): (row: T) => void {
  if (asJson || text === undefined) return json
  return row => out(text(row))
}

function ago (ms: number | null): string {
  if (ms === null) return 'never'
  return new Date(ms).toISOString()
}

function duration (ms: number): string {
  const s = Math.floor(ms / 1000)
  const parts = [[Math.floor(s / 86400), 'd'], [Math.floor(s / 3600) % 24, 'h'], [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']] as const
  const shown = parts.filter(([n]) => n > 0).map(([n, u]) => `${n}${u}`)
  return shown.length > 0 ? shown.join(' ') : '0s'
}

export function statusText (s: StatusRow): string {
  const lines = [
    // First, where nobody can miss them; kept until `status --clear-warnings`.
    ...(s.warnings ?? []).map(w => `warning:     ${new Date(w.time).toISOString()} ${w.message} (clear it with \`peernet status --clear-warnings\`)`),
    `id:          ${s.id}`,
    `pid:         ${s.pid}`,
    `version:     ${s.version}`,
    `uptime:      ${duration(s.uptime)}`,
    `datadir:     ${s.datadir}`,
    `socket:      ${s.socket}`,
    `network:     ${s.network}`,
    `ring:        ${s.ring}`,
    `known:       ${s.known} (${s.saved} saved, ${s.learned} learned, ${s.tombstones} removed recently)`,
    `connections: ${s.connections} (${s.limits.outbound} out, ${s.limits.inbound} in)`,
    `subnets:     ${s.subnets}`,
    `servers:     ${s.servers}${s.failedServers > 0 ? ` (and ${s.failedServers} that did not reopen: see peernet servers)` : ''}`,
    `addresses:   ${s.addresses.length > 0 ? s.addresses.join(' ') : '(none known)'}`,
    // As flags, so a setting never reads like a count above (`connections: 5` twice).
    'settings (flags of server/daemon, keys of config.json):',
    ...Object.entries(s.settings).map(([k, v]) => `  --${k} ${Array.isArray(v) ? v.join(' ') || '(none)' : String(v)}`),
    'limits:',
    ...Object.entries(s.limits).map(([k, v]) => `  ${k}: ${v}`)
  ]
  return lines.join('\n')
}

/** A node of the ring as a line: its id, then its first address (the one a dial tries first). */
function ringNode (n: RingNodeRow): string {
  return `${n.id} ${n.addresses[0] ?? '(no address known)'}`
}

/** `ring`: status, predecessor, successors, fingers; one node a line after its label. */
export function ringText (r: RingRow): string {
  const block = (label: string, nodes: string[]): string[] =>
    nodes.length === 0 ? [`${label.padEnd(13)}(none)`] : nodes.map((n, i) => `${(i === 0 ? label : '').padEnd(13)}${n}`)
  return [
    `status:      ${r.status} (${r.links} links; about ${r.estimate} nodes)`,
    ...block('predecessor:', r.predecessor === null ? [] : [ringNode(r.predecessor)]),
    ...block('successors:', r.successors.map(ringNode)),
    ...block('fingers:', r.fingers.map(f => `2^${f.range} ${ringNode(f)}`))
  ].join('\n')
}

/** The id an address is pinned to, and what that means (see Pin in table/rules.ts). */
function pinText (s: StatsRow): string {
  if (s.id === null) return '-'
  if (s.pin === 'hint') return `${s.id} (a peer's word, not checked)`
  const how = s.pin === 'given' ? 'given by the user' : 'seen here by a handshake'
  return `${s.id} (${how}${s.saved ? ': a dial must reach it' : ''})`
}

export function statsText (s: StatsRow): string {
  return [
    `address:     ${s.address}`,
    `saved:       ${s.saved ? 'yes (added by the user)' : 'no'}`,
    `id:          ${pinText(s)}`,
    `connections: ${s.connections.ok} ok, ${s.connections.fail} failed`,
    `nodes:       ${s.nodes.rx} received, ${s.nodes.tx} sent`,
    `first seen:  ${ago(s.first)}`,
    `last seen:   ${ago(s.last)}`,
    `last ok:     ${ago(s.lastOk)}`,
    `told by:     ${s.sources.length > 0 ? s.sources.join(' ') : '-'}`,
    `subnets:     ${s.subnets.length > 0 ? s.subnets.join(' ') : '-'}`
  ].join('\n')
}
