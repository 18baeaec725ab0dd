// The man page, rendered from the command table (commands.ts, settings.ts), so every command,
// flag, default and bound is written down once. scripts/man.mjs writes it to man/peernet.1.
import { COMMANDS, GLOBAL_FLAGS, SETTINGS, type Command, type Flag, type Arg } from './commands.js'
import { DEFAULT_CONNECTIONS } from '../node/defaults.js'
import { MAX_SOCKET_PATH } from '../control/paths.js'
import { LOG_BUFFER, MAX_LOG_FILE } from '../daemon/log.js'
import { METHODS, ERROR_CODES } from '../control/protocol.js'

// --- troff escaping ------------------------------------------------------------------------

/** Characters outside ASCII as \[uXXXX], so the page reads the same whatever groff's input encoding. */
function unicode (s: string): string {
  return s.replace(/[^\x00-\x7f]/gu, ch => `\\[u${(ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}]`)
}

/** Literal text (commands, flags, paths, examples): every hyphen is a minus, quotes stay ASCII. */
export function code (s: string): string {
  return unicode(s.replace(/\\/g, '\\e'))
    .replace(/-/g, '\\-')
    .replace(/'/g, '\\(aq')
    .replace(/`/g, '\\(ga')
}

/**
 * Running text: a backslash prints as itself, an option-like word (`--json`, `-n`, a lone `-`)
 * gets minus signs while hyphenated words (`long-lived`) keep hyphens, and `backquoted` spans
 * print in bold as literal text.
 */
export function prose (s: string): string {
  return s.split(/(`[^`]*`)/).map(part => {
    if (part.length >= 2 && part.startsWith('`') && part.endsWith('`')) return bold(code(part.slice(1, -1)))
    return unicode(part.replace(/\\/g, '\\e'))
      .replace(/(^|[^\w\\-])(-[-\w]*)/g, (_m, before: string, word: string) => before + word.replace(/-/g, '\\-'))
  }).join('')
}

/** A text line must not start with a control character (. or '): \& in front makes it text. */
function line (s: string): string {
  const t = s.trim()
  return t.startsWith('.') || t.startsWith("'") ? '\\&' + t : t
}

/** An argument of a macro, quoted: a " inside prints as \(dq. */
function arg (s: string): string {
  return `"${code(s).replace(/"/g, '\\(dq')}"`
}

const bold = (s: string): string => `\\fB${s}\\fR`
const italic = (s: string): string => `\\fI${s}\\fR`

// --- pieces built from the table -------------------------------------------------------------

/** "hop limit (default: …)" → "Hop limit (default: …)." */
function sentence (s: string): string {
  const t = s.trim()
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.')
}

function dashes (name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`
}

/** The synopsis of a command: its words bold, flags bold, placeholders in italics. */
function synopsis (c: Command): string {
  const literal = new Set([c.name, ...(c.aliases ?? [])])
  const words = c.synopsis.split(/(\s+|[[\]|])/).filter(w => w !== '').map(w => {
    if (/^\s+$/.test(w)) return ' '
    if (w === '[' || w === ']' || w === '|') return w
    if (literal.has(w) || w.startsWith('-')) return bold(code(w))
    const m = /^(.*?)((?:\.\.\.)?)$/.exec(w) as RegExpExecArray
    return italic(code(m[1])) + m[2]
  })
  return `${bold('peernet')} ${words.join('')}`
}

/** How a flag is written: `-n, --lines N`, `--follow, --no-follow`. */
function flagTag (f: Flag): string {
  const names = [...(f.alias ? [bold(code(dashes(f.alias)))] : []), bold(code(`--${f.name}`))]
  let tag = names.join(', ')
  if (f.value) tag += ' ' + italic(code(f.value))
  if (f.type === 'boolean' && f.default === true) tag += ', ' + bold(code(`--no-${f.name}`))
  return tag
}

/** What a flag does, then its default and bounds, from the table. */
function flagText (f: Flag): string {
  const parts = [prose(sentence(f.describe))]
  if (f.type === 'boolean') {
    if (f.default !== undefined) parts.push(f.default === true ? 'On by default.' : 'Off by default.')
  } else if (f.default !== undefined) {
    parts.push(`Default: ${code(String(f.default))}.`)
  }
  if (f.type === 'number') {
    if (f.min !== undefined && f.max !== undefined) parts.push(`A whole number from ${f.min} to ${f.max}.`)
    else if (f.min !== undefined) parts.push(`A whole number, at least ${f.min}.`)
    else if (f.max !== undefined) parts.push(`A whole number, at most ${f.max}.`)
    else parts.push('A whole number.')
  }
  return parts.join(' ')
}

function flagList (flags: Flag[]): string[] {
  return flags.flatMap(f => ['.TP', line(flagTag(f)), line(flagText(f))])
}

/** A positional as the synopsis writes it: `addrs` (variadic) → ADDR... */
function argTag (a: Arg): string {
  const name = a.variadic && a.name.endsWith('s') ? a.name.slice(0, -1) : a.name
  const tag = italic(code(name.toUpperCase())) + (a.variadic ? '...' : '')
  return a.optional === true ? `[${tag}]` : tag
}

const REACH: Record<Command['reach'], string> = {
  local: '',
  running: 'Needs a running daemon (never starts one).',
  autostart: 'Starts a daemon first if none is running (see --autostart).'
}

function command (c: Command): string[] {
  const out = ['.SS', line(code([c.name, ...(c.aliases ?? [])].join(', '))), line(synopsis(c)), '.PP', line(prose(c.describe))]
  const notes: string[] = []
  if (c.aliases?.length) notes.push(`${c.aliases.length === 1 ? 'Alias' : 'Aliases'}: ${c.aliases.map(a => bold(code(a))).join(', ')}.`)
  if (REACH[c.reach] !== '') notes.push(prose(REACH[c.reach]))
  if (c.listing) notes.push(prose('Prints one row per line; with --json, one JSON object per line (NDJSON).'))
  if (notes.length > 0) out.push('.PP', ...notes.map(line))
  if (c.args.length > 0) {
    out.push('.PP', 'Arguments:')
    // Argument descriptions are noun phrases that may start with a literal ("ws or tcp"): no capital.
    for (const a of c.args) out.push('.TP', line(argTag(a)), line(prose(a.describe + '.')))
  }
  if (c.flags === SETTINGS) {
    out.push('.PP', line(`Settings, as flags (see ${bold('SETTINGS')}): ${SETTINGS.map(f => bold(code(`--${f.name}`)) + (f.value ? ' ' + italic(code(f.value)) : '')).join(', ')}.`))
  } else if (c.flags.length > 0) {
    out.push('.PP', 'Options:', ...flagList(c.flags))
  }
  if (c.examples?.length) out.push('.PP', 'Examples:', ...example(c.examples))
  return out
}

/** Literal lines, indented, not filled. */
function example (lines: string[]): string[] {
  return ['.PP', '.RS 4', '.nf', ...lines.map(l => line(code(l))), '.fi', '.RE']
}

/** A paragraph of several sentences (one per input line, as troff likes). */
function para (...sentences: string[]): string[] {
  return ['.PP', ...sentences.map(s => line(prose(s)))]
}

function tagged (tag: string, ...text: string[]): string[] {
  return ['.TP', line(tag), ...text.map(s => line(prose(s)))]
}

const mib = (n: number): string => `${n / (1024 * 1024)} MiB`

// --- the page ------------------------------------------------------------------------------

/** The troff source of peernet(1). */
export function renderMan (version: string): string {
  const globalFlags: Flag[] = [
    ...GLOBAL_FLAGS,
    { name: 'help', alias: 'h', type: 'boolean', describe: 'show help: the list of commands, or with a command, that command\'s arguments and options; exits 0' },
    { name: 'version', alias: 'V', type: 'boolean', describe: 'print the version and exit' }
  ]
  const s: string[] = [
    '.\\" peernet(1). Generated from the command table (src/cli/commands.ts, src/control/settings.ts)',
    '.\\" by src/cli/man.ts: do not edit; run `npm run man` (or `npm run build`) to regenerate.',
    `.TH PEERNET 1 "" ${arg(`peernet ${version}`)} "User Commands"`,
    // No hyphenation (names like PEERNET_NO_AUTOSTART and paths must not break), ragged right.
    '.nh',
    '.ad l',
    '.SH NAME',
    line(`peernet ${code('-')} peer-to-peer gossip network that helps applications find the members of named subnets`),

    '.SH SYNOPSIS',
    line(`${bold('peernet')} [${italic('global options')}] ${italic('command')} [${italic('arguments')}] [${italic('options')}]`),
    '.br',
    line(`${bold('peernet')} ${bold(code('--help'))} | ${bold(code('--version'))} | ${italic('command')} ${bold(code('--help'))}`),
    '.PP',
    'Commands:',
    '.PP',
    '.RS 4',
    ...COMMANDS.flatMap(c => [line(synopsis(c)), '.br']).slice(0, -1),
    '.RE',

    '.SH DESCRIPTION',
    ...para(
      'peernet keeps a gossip network that peer-to-peer applications use to find each other.',
      'Each machine (or each user) runs a long-lived daemon, started with `peernet daemon`, or `peernet server` in the foreground.',
      'The daemon keeps a persistent table of peer addresses in a LevelDB database under its data directory,',
      `holds a small pool of live connections (${DEFAULT_CONNECTIONS} by default),`,
      'swaps addresses with its peers on an interval (gossip), and answers searches for the named subnets it has joined:',
      'application-specific groups such as "my-chat" or "stun".',
      'A search travels from peer to peer up to a hop limit, each node handling it once; members answer,',
      'and their addresses come back to the asker with the number of hops they are away.',
      'The table, the joined subnets, the services to reopen and the node\'s identity survive restarts,',
      'and a restarted daemon bootstraps its connections from its table.'
    ),
    ...para(
      'Every other command is a short-lived client: it sends a request to the daemon over a Unix socket',
      'that only the daemon\'s user can reach, reads the answer as newline-delimited JSON (NDJSON), prints it and exits.',
      'Listings print one row per line as the rows arrive and are flushed line by line,',
      'so they work with grep, head and tail (the command exits quietly when its reader goes away);',
      'with --json every row is a JSON object on its own line.',
      'Most commands start a daemon when none is running, and say so on standard error; --no-autostart or PEERNET_NO_AUTOSTART=yes turns that off.'
    ),
    ...para(
      'The data directory (DATADIR below) is --datadir, else $PEERNET_PATH, else ~/.config/peernet.',
      'Each data directory has its own daemon, so several nodes can run on one machine.'
    ),

    '.SH COMMANDS',
    ...COMMANDS.flatMap(command),

    '.SH GLOBAL OPTIONS',
    ...para(
      'These work with every command, before or after it,',
      `except --json with ${COMMANDS.filter(c => c.noJson !== undefined).map(c => '`' + c.name + '`').join(', ')}, which is a usage error there.`
    ),
    ...flagList(globalFlags),

    '.SH SETTINGS',
    ...para(
      'Settings of the daemon: each one is a flag of `server` and `daemon`,',
      'and a key of the optional file DATADIR/config.json, which holds one JSON object, for example:'
    ),
    ...example(['{"network":"x","interval":1000}']),
    ...para(
      'Flags override the file, key by key.',
      'A repeatable setting is a list of strings in the file.',
      'A bad value or an unknown key stops the daemon from starting, with a message naming it.',
      'The file is read when the daemon starts; `peernet status` shows the values in force.'
    ),
    ...flagList(SETTINGS),

    '.SH ENVIRONMENT',
    ...tagged(bold('PEERNET_PATH'), 'The data directory when --datadir is not given (default: ~/.config/peernet). Empty counts as unset.'),
    ...tagged(bold('PEERNET_NO_AUTOSTART'), 'When yes, on, 1 or true, no command starts a daemon, as with --no-autostart; no, off, 0, false or empty leave auto-start on.',
      'Any other value is a usage error.'),
    ...tagged(bold('XDG_RUNTIME_DIR'),
      `When DATADIR/run/control.sock is longer than a Unix socket path may be (${MAX_SOCKET_PATH} bytes),`,
      'the socket is $XDG_RUNTIME_DIR/peernet/HASH.sock instead, HASH being derived from the data directory;',
      'without XDG_RUNTIME_DIR it is in a peernet-UID directory under $TMPDIR (or /tmp).',
      '--sockfile overrides all of this.'),

    '.SH FILES',
    ...tagged(bold(code('DATADIR/db')),
      'The LevelDB database: the address table with per-address statistics, recently removed addresses,',
      'joined subnets, the services to reopen, and the node\'s identity.'),
    ...tagged(bold(code('DATADIR/run/control.sock')),
      'The control socket (mode 0600, in a directory of mode 0700). See XDG_RUNTIME_DIR for long paths.'),
    ...tagged(bold(code('DATADIR/peernet.pid')), 'The process id of the running daemon.'),
    ...tagged(bold(code('DATADIR/daemon.log')),
      'The daemon\'s events, one line each, as `peernet log` prints them (which replays the last ' + String(LOG_BUFFER) + ' events from memory).',
      `Past ${mib(MAX_LOG_FILE)} it is moved to \`DATADIR/daemon.log.1\` and a new one is started.`),
    ...tagged(bold(code('DATADIR/config.json')), 'Settings of the daemon, optional (see SETTINGS).'),

    '.SH CONTROL SOCKET',
    ...para(
      'Every command is a client of the control socket, a Unix socket speaking newline-delimited JSON; scripts can speak it too.',
      'A request is one line: {"id": ID, "method": METHOD, "params": {...}}, the id a number or a string of the client\'s choosing.',
      `The methods: ${METHODS.join(', ')}.`,
      'The params follow the commands: for example {"address": ADDR} for connect, {"addresses": [...]} for add, {"subnet": NAME, "max": N} for search.',
      'The answer is any number of rows {"id": ID, "row": {...}}, each the object --json prints,',
      'then one {"id": ID, "end": true}, or instead of the end {"id": ID, "error": {"code": CODE, "message": TEXT}}.',
      'A client may send many requests on one connection without waiting; answers to different ids may interleave.',
      'A client that closes its sending side after its last request (as socat does at the end of its input) still gets every answer;',
      'the daemon closes the connection after the last one. For example:'
    ),
    ...example(['$ echo \'{"id":1,"method":"known"}\' | socat - UNIX-CONNECT:$HOME/.config/peernet/run/control.sock', '{"id":1,"row":{"address":"ws://127.0.0.1:48832","saved":true,"subnets":["chat"]}}', '{"id":1,"end":true}']),
    ...para('socat itself stops reading half a second after its input ends (its -t option): give a request that takes longer, such as a search that runs until its timeout, the time it needs:'),
    ...example(['$ echo \'{"id":1,"method":"search","params":{"subnet":"chat","timeout":2000}}\' | socat -t 3 - UNIX-CONNECT:$HOME/.config/peernet/run/control.sock']),
    ...para('The error codes:'),
    ...Object.entries(ERROR_CODES).flatMap(([code, meaning]) => tagged(bold(code), sentence(meaning))),

    '.SH EXIT STATUS',
    ...tagged(bold('0'), 'Success.'),
    ...tagged(bold('1'), 'A failure: no daemon is running (and none may be started), the daemon refused the request, a connection failed.',
      'One line on standard error says what failed and what to do.'),
    ...tagged(bold('2'), 'A usage error: an unknown command or option, a missing or extra argument, a bad address (in the arguments or on the standard input of `add -`), number or subnet name.',
      'One line on standard error says what is wrong.'),

    '.SH EXAMPLES',
    ...para('Start a daemon and open a websocket service on it; `listen` prints the URL to dial:'),
    ...example(['$ peernet daemon', 'peernet daemon started (pid 4242)', '$ peernet listen ws', 'ws://127.0.0.1:48832']),
    ...para('A second node, with another data directory on the same machine, connects to it (its daemon starts on demand):'),
    ...example(['$ PEERNET_PATH=~/.peernet-b peernet connect ws://127.0.0.1:48832', 'connected to ws://127.0.0.1:48832']),
    ...para('The first node joins the subnet chat; searching from the second node finds it:'),
    ...example(['$ peernet join chat', 'joined chat', '$ PEERNET_PATH=~/.peernet-b peernet search chat', 'ws://127.0.0.1:48832']),
    ...para(
      'To be reached from another machine, listen on every interface and tell peers the address they can dial;',
      'a service on 0.0.0.0 is not advertised by itself, since 0.0.0.0 is no address a peer can dial:'
    ),
    ...example(['$ peernet daemon --advertise ws://192.168.1.172:48832', '$ peernet listen ws --host 0.0.0.0 --port 48832', 'ws://0.0.0.0:48832']),
    ...para('and on the other machine:'),
    ...example(['$ peernet connect ws://192.168.1.172:48832']),
    ...para('Watch connections come and go:'),
    ...example(['$ peernet log | grep connect']),
    ...para('Copy every address this node knows into the table of another node:'),
    ...example(['$ peernet known | PEERNET_PATH=/other peernet add -']),
    ...para('Enable shell completion (bash or zsh):'),
    ...example(['$ source <(peernet completion)']),

    '.SH SEE ALSO',
    line(`${bold('jq')}(1) for the ${bold(code('--json'))} output, ${bold('tail')}(1) for ${code('DATADIR/daemon.log')}.`),
    'The README.md of the peernet package describes the library API (the same node, embedded in a Node.js program).'
  ]
  return s.join('\n') + '\n'
}
