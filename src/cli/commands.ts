// The command table: every command, argument and flag of the CLI, as data. It drives the lean
// parser on the common path, yargs for help, usage errors and completion, and the man page.
// Nothing here loads more than the defaults it shows.
import { DEFAULT_SEARCH_TIMEOUT, MAX_SEARCH_TIMEOUT, DISCONNECT_HOLD } from '../node/defaults.js'
import { MAX_HOP_LIMIT, MAX_SUBNET_LENGTH } from '../wire/messages.js'
import { SETTINGS, parseMeta, type Flag } from '../control/settings.js'
import { DEFAULT_LOG_REPLAY, ROUTINE_EVENTS, LOG_BUFFER, MAX_OWNER_VALUE, MAX_INBOX } from '../control/protocol.js'
import { offerProblem, MAX_RECORD_URL, MAX_RECORD_VERSION, MAX_RECORD_META, MAX_FETCH, MAX_MESSAGE, MAX_ENVELOPE_TTL, RUN_TIMEOUT } from '../wire/record.js'

export { SETTINGS, type Flag }

/** 'service': an address `listen` printed, which may be bound to every interface (ws://0.0.0.0:P). */
export type ArgType = 'pinned' | 'address' | 'address-or-stdin' | 'subnet' | 'protocol' | 'peer' | 'service' | 'value' | 'service-name' | 'url' | 'node-id' | 'json-or-stdin'

export interface Arg {
  name: string
  type: ArgType
  describe: string
  variadic?: boolean
  /** May be left out (only the last argument). */
  optional?: boolean
}

/** How a command reaches the node: not at all, only a running daemon, or one started on demand. */
export type Reach = 'local' | 'running' | 'autostart'

export interface Command {
  name: string
  aliases?: string[]
  synopsis: string
  describe: string
  args: Arg[]
  flags: Flag[]
  reach: Reach
  /** Prints rows: --json gives NDJSON. */
  listing?: boolean
  /** Set when --json means nothing here: why, for the usage error (and --json is not in its help). */
  noJson?: string
  examples?: string[]
  /** A rule across the checked args and flags: the usage error's text when they break it. */
  rule?: (args: Record<string, unknown>, flags: Record<string, unknown>) => string | undefined
}

export const GLOBAL_FLAGS: Flag[] = [
  { name: 'datadir', type: 'string', value: 'DIR', describe: 'data directory (default: $PEERNET_PATH when set and not empty, else ~/.config/peernet)' },
  { name: 'sockfile', type: 'string', value: 'PATH', describe: 'control socket path (default: DATADIR/run/control.sock)' },
  { name: 'json', type: 'boolean', describe: 'print JSON (one object per line for listings)' },
  { name: 'autostart', type: 'boolean', default: true, describe: 'start a daemon when none is running (--no-autostart, or PEERNET_NO_AUTOSTART=yes, turns it off); status, close and log never start one' }
]

/** The subnet rule as --help and the man page say it (checkSubnet in wire/messages.ts enforces it). */
const SUBNET_RULE = `at most ${MAX_SUBNET_LENGTH} bytes of UTF-8, no invisible or control characters, no white space at either end`

/** The service-name rule as --help and the man page say it (SERVICE_NAME in wire/record.ts enforces it). */
const SERVICE_RULE = 'service name: 1 to 64 of a-z, 0-9, dot and dash, starting with a letter or digit'

/** offer's --meta K=V values as an object, or the usage error's text. */
export function metaFlags (v: unknown): Record<string, string> | string | undefined {
  if (v === undefined) return undefined
  try {
    return parseMeta(v as string[])
  } catch (err) {
    return (err as Error).message
  }
}

const ADDR: Arg = { name: 'addr', type: 'address', describe: 'address: tcp://HOST:PORT, ws://HOST:PORT or wss://HOST' }

export const COMMANDS: Command[] = [
  {
    name: 'server',
    synopsis: 'server [settings]',
    describe: 'Run the daemon in the foreground (logs to stderr; SIGINT or SIGTERM stops it cleanly).',
    args: [],
    flags: SETTINGS,
    reach: 'local',
    noJson: 'its log on stderr is text; `peernet log --json` streams the same events as NDJSON'
  },
  {
    name: 'daemon',
    synopsis: 'daemon [settings]',
    describe: 'Start the daemon in the background; returns once it answers and prints its pid.',
    args: [],
    flags: SETTINGS,
    reach: 'local'
  },
  {
    name: 'close',
    aliases: ['stop'],
    synopsis: 'close',
    describe: 'Stop the daemon cleanly.',
    args: [],
    flags: [],
    reach: 'running'
  },
  {
    name: 'status',
    synopsis: 'status [--clear-warnings]',
    describe: 'Show the daemon: warnings, id, pid, uptime, data dir, socket, counts, settings and limits.',
    args: [],
    flags: [
      { name: 'clear-warnings', type: 'boolean', describe: 'show the warnings the daemon keeps (such as data its database lost at start) once more, then forget them' }
    ],
    reach: 'running'
  },
  {
    name: 'id',
    synopsis: 'id',
    describe: "Print this node's id: its public key, 64 hex digits (peers know the node by it; `connect ID@ADDR` checks it).",
    args: [],
    flags: [],
    reach: 'autostart',
    examples: ['peernet id', 'peernet id --json']
  },
  {
    name: 'owner',
    synopsis: 'owner VALUE',
    describe: 'Print the node responsible for VALUE on the ring (any text: it is hashed to a point on the ring of node ids), found by a lookup: its id, then its first address. Every node of the ring names the same one once the ring is settled.',
    args: [{ name: 'value', type: 'value', describe: `any text, up to ${MAX_OWNER_VALUE} characters` }],
    flags: [],
    reach: 'autostart',
    examples: ['peernet owner foo', 'peernet owner foo --json']
  },
  {
    name: 'ring',
    synopsis: 'ring',
    describe: "Show this node's place on the ring: its status (lonely: no peers; unbalanced: successor or predecessor missing or not agreed yet; joined), its predecessor, successors and fingers, each as ID ADDR.",
    args: [],
    flags: [],
    reach: 'autostart',
    examples: ['peernet ring', 'peernet ring --json']
  },
  {
    name: 'log',
    synopsis: 'log [-n N] [--no-follow]',
    describe: 'Print lifecycle events (connect, disconnect, gossip, search, join, part, errors) as they happen, one per line.',
    args: [],
    flags: [
      { name: 'lines', alias: 'n', type: 'number', value: 'N', min: 0, max: LOG_BUFFER, describe: `replay the last N events first, at most ${LOG_BUFFER} (default: the last ${DEFAULT_LOG_REPLAY} events other than ${ROUTINE_EVENTS.join(', ')}: those come every few seconds and would crowd out connects, listens and errors)` },
      { name: 'follow', type: 'boolean', default: true, describe: 'keep printing new events until the daemon stops (--no-follow prints the replay and exits)' }
    ],
    reach: 'running',
    listing: true,
    examples: ['peernet log | grep connect', 'peernet log -n 100 --no-follow | tail']
  },
  {
    name: 'known',
    synopsis: 'known',
    describe: 'Print every known address, with the subnets it is known to serve in a second column.',
    args: [],
    flags: [],
    reach: 'autostart',
    listing: true,
    examples: ['peernet known | peernet --datadir /other add -']
  },
  {
    name: 'own',
    synopsis: 'own [--ids]',
    describe: "Print the addresses of this node's own services (and advertised addresses).",
    args: [],
    flags: [{ name: 'ids', type: 'boolean', describe: 'print each as ID@ADDR, with this node\'s id, as `connect ID@ADDR` takes it (--json rows gain an id)' }],
    reach: 'autostart',
    listing: true
  },
  {
    name: 'connections',
    synopsis: 'connections',
    describe: "Print the open connections: each by an address that answers for the peer (one this node dialed, or one a dial of this node found to reach that same peer) and the peer's id (its key, proven by the link's handshake) in a second column, else by the peer's id alone. With --json, an inbound peer's own unconfirmed word for its address is its `claimed` field.",
    args: [],
    flags: [],
    reach: 'autostart',
    listing: true
  },
  {
    name: 'connect',
    synopsis: 'connect [ID@]ADDR | connect ID',
    describe: 'Open a connection to ADDR, and once connected add it to the table (an address that does not answer is not kept). With ID@ADDR only the node whose id is ID will do: another key answering is an identity mismatch (exit 1) and the link is closed. With an ID alone the node is found through the ring: its signed presence record gives its addresses, each dialed as ID@ADDR; a node that cannot be dialed (it only dials out) is asked over the ring to dial back. The line says how it was reached (dial, dial-back, or linked when a link was open); when nothing worked, the error names each path tried (exit 1).',
    args: [{ name: 'addr', type: 'pinned', describe: 'address, optionally with the id it must reach (ID@ws://HOST:PORT), or a node id alone' }],
    flags: [],
    reach: 'autostart',
    examples: ['peernet connect ws://127.0.0.1:48832', 'peernet connect $(peernet --datadir /other id)@ws://127.0.0.1:48832', 'peernet connect $(peernet --datadir /other id)']
  },
  {
    name: 'introduce',
    synopsis: 'introduce [PEER]',
    describe: "Get a new peer through a connected one (peer-exchange's getNewPeer): PEER (an address or id from `connections`; a random connected peer when absent) names some of its peers, and this node links to one it had no link to, by its signed presence record, the addresses the introducer named (dialed as ID@ADDR), or a dial-back asked through the introducer. Prints the new peer and how it was reached. A node started with --no-introductions neither introduces nor takes such links.",
    args: [{ name: 'peer', type: 'peer', optional: true, describe: 'the connected peer to ask (address or id)' }],
    flags: [],
    reach: 'autostart',
    examples: ['peernet introduce', 'peernet introduce ws://127.0.0.1:48832']
  },
  {
    name: 'disconnect',
    synopsis: 'disconnect ADDR',
    describe: `Close the connection to ADDR (an address, or a peer id from \`connections --json\`); that peer is then neither dialed nor let back in for ${DISCONNECT_HOLD / 1000} s, unless you \`connect\` to its address.`,
    args: [{ name: 'addr', type: 'peer', describe: 'address or peer id' }],
    flags: [],
    reach: 'autostart'
  },
  {
    name: 'add',
    synopsis: 'add [ID@]ADDR... | add -',
    describe: 'Add addresses to the table without connecting; "-" reads them from stdin, one per line. ID@ADDR pins the address to that node id: a dial that reaches another key is refused. A plain ADDR is held to the first key a connection finds there (as ssh\'s known_hosts); after that, another key is refused and logged as identity-changed. To accept a new key, rm the address and add it again, or add ID@ADDR.',
    args: [{ name: 'addrs', type: 'address-or-stdin', variadic: true, describe: 'addresses (ADDR or ID@ADDR), or - for stdin' }],
    flags: [],
    reach: 'autostart'
  },
  {
    name: 'rm',
    synopsis: 'rm ADDR...',
    describe: 'Remove addresses from the table (they are not re-learned from gossip for a day).',
    args: [{ ...ADDR, name: 'addrs', variadic: true }],
    flags: [],
    reach: 'autostart'
  },
  {
    name: 'join',
    synopsis: 'join SUBNET...',
    describe: 'Join SUBNET: answer searches for its members (kept across restarts).',
    args: [{ name: 'subnets', type: 'subnet', variadic: true, describe: `subnet names (${SUBNET_RULE})` }],
    flags: [],
    reach: 'autostart'
  },
  {
    name: 'part',
    synopsis: 'part SUBNET...',
    describe: 'Part SUBNET: stop answering searches for it.',
    args: [{ name: 'subnets', type: 'subnet', variadic: true, describe: 'subnet names' }],
    flags: [],
    reach: 'autostart'
  },
  {
    name: 'subnets',
    synopsis: 'subnets',
    describe: 'Print the joined subnets, one per line.',
    args: [],
    flags: [],
    reach: 'autostart',
    listing: true
  },
  {
    name: 'search',
    synopsis: 'search SUBNET [--max N] [--timeout MS] [--flood [--hops N]]',
    describe: 'Search for members of SUBNET, printing their addresses one per line as answers arrive (exit 1, saying why, when nothing answered because this node has no connections). Once the node has joined the ring, or is linked to a peer that has, the search is a lookup: the node responsible for the subnet answers with its members\' signed records (--json rows: hash, address, hops, id, addresses, via "ring"); otherwise, or with --flood, the query floods hop by hop (via "flood").',
    args: [{ name: 'subnet', type: 'subnet', describe: `subnet name (${SUBNET_RULE})` }],
    flags: [
      { name: 'max', type: 'number', value: 'N', min: 1, describe: 'stop after N answers' },
      { name: 'timeout', type: 'number', value: 'MS', min: 0, max: MAX_SEARCH_TIMEOUT, default: DEFAULT_SEARCH_TIMEOUT, describe: 'stop after MS milliseconds' },
      { name: 'hops', type: 'number', value: 'N', min: 1, max: MAX_HOP_LIMIT, describe: "hop limit of a flood (default: the daemon's)" },
      { name: 'flood', type: 'boolean', describe: 'flood the query hop by hop instead of asking the ring' }
    ],
    reach: 'autostart',
    listing: true,
    examples: ['peernet search chat --max 1']
  },
  {
    name: 'offer',
    synopsis: 'offer SERVICE URL [--version V] [--meta K=V]...',
    describe: 'Offer a service by name: a record signed by this node, published on the ring where `peernet find SERVICE` on any node finds it (kept across restarts; withdraw it with `peernet withdraw`). URL is data for whoever finds it: peernet never dials it.',
    args: [
      { name: 'service', type: 'service-name', describe: SERVICE_RULE },
      { name: 'url', type: 'url', describe: `where the service is, SCHEME:REST, up to ${MAX_RECORD_URL} bytes, no white space (stun:HOST:PORT, https://HOST/PATH, …)` }
    ],
    flags: [
      { name: 'version', type: 'string', value: 'V', describe: `the service's version, up to ${MAX_RECORD_VERSION} characters (peer-up's "*" when any)` },
      { name: 'meta', type: 'array', value: 'K=V', describe: `metadata for those who find it (repeatable; keys and values up to ${MAX_RECORD_META} bytes in all)` }
    ],
    reach: 'autostart',
    examples: ['peernet offer stun stun:127.0.0.1:3478', 'peernet offer chat wss://127.0.0.1:8443/chat --version 2 --meta region=lab'],
    rule: (args, flags) => {
      const meta = metaFlags(flags.meta)
      if (typeof meta === 'string') return meta
      return offerProblem({ name: args.service, url: args.url, ...(flags.version === undefined ? {} : { version: flags.version }), ...(meta === undefined ? {} : { meta }) }) ?? undefined
    }
  },
  {
    name: 'withdraw',
    synopsis: 'withdraw SERVICE [URL]',
    describe: "Withdraw this node's offers of SERVICE (only the one at URL, when given): a signed tombstone replaces each record on the ring. A services.json entry stays withdrawn until the file changes.",
    args: [
      { name: 'service', type: 'service-name', describe: SERVICE_RULE },
      { name: 'url', type: 'url', optional: true, describe: 'the URL of one offer' }
    ],
    flags: [],
    reach: 'autostart'
  },
  {
    name: 'offers',
    synopsis: 'offers',
    describe: "Print the services this node offers, one per line: SERVICE URL, and \"file\" for those from DATADIR/services.json.",
    args: [],
    flags: [],
    reach: 'autostart',
    listing: true
  },
  {
    name: 'find',
    synopsis: 'find SERVICE [--max N] [--timeout MS]',
    describe: 'Find nodes that offer SERVICE, printing the URLs they offer one per line (--json rows: name, url, version, meta, the offering node\'s id and addresses, hops). A lookup over the ring: the node responsible for the name answers with the offers\' signed records, each checked here. Exit 1, saying why, when this node has not joined the ring.',
    args: [{ name: 'service', type: 'service-name', describe: SERVICE_RULE }],
    flags: [
      { name: 'max', type: 'number', value: 'N', min: 1, max: MAX_FETCH, describe: 'print at most N offers (the most one answer of the ring holds)' },
      { name: 'timeout', type: 'number', value: 'MS', min: 0, max: MAX_SEARCH_TIMEOUT, default: DEFAULT_SEARCH_TIMEOUT, describe: 'give up after MS milliseconds' }
    ],
    reach: 'autostart',
    listing: true,
    examples: ['peernet find stun --max 1']
  },
  {
    name: 'send',
    synopsis: 'send ID JSON|- [--timeout MS]',
    describe: `Send a message (any JSON value, at most ${MAX_MESSAGE} bytes of it) to node ID: over a link to it when this node has one, else routed over the ring, signed end to end. Exit 0 once ID's signed acknowledgement is back; exit 1, saying why, when it is not (no node with that id, no way there, a timeout, or ID refused it: it takes no messages, its inbox is full, it is over its rate for us). The message reaches \`peernet messages\` on ID's daemon.`,
    args: [
      { name: 'id', type: 'node-id', describe: 'the recipient\'s node id, 64 hex digits (`peernet id` on its daemon)' },
      { name: 'message', type: 'json-or-stdin', describe: `the message as JSON text (a string is quoted: '"hi"'), or - to read it from stdin; at most ${MAX_MESSAGE} bytes once compacted (MAX_MESSAGE)` }
    ],
    flags: [
      { name: 'timeout', type: 'number', value: 'MS', min: 1, max: MAX_ENVELOPE_TTL, default: RUN_TIMEOUT, describe: 'give up when no acknowledgement came within MS milliseconds' }
    ],
    reach: 'autostart',
    examples: ["peernet send $(peernet --datadir /other id) '\"hi\"'", 'echo \'{"text": "hi"}\' | peernet send ID -']
  },
  {
    name: 'messages',
    synopsis: 'messages [--no-follow]',
    describe: `Print the messages sent to this node (\`peernet send\` or the library's send), one per line as they come: the time, the sender's id, and the message as JSON (--json rows: from, message, time). The daemon holds up to ${MAX_INBOX} (MAX_INBOX) for a reader; past that a message is refused and its sender told. Each is printed once: a reader takes it.`,
    args: [],
    flags: [
      { name: 'follow', type: 'boolean', default: true, describe: 'keep printing messages as they come until the daemon stops (--no-follow prints what waits and exits)' }
    ],
    reach: 'autostart',
    listing: true,
    examples: ['peernet messages --json', 'peernet messages | head -n 1']
  },
  {
    name: 'reload',
    synopsis: 'reload',
    describe: 'Read DATADIR/services.json again (as SIGHUP to the daemon does) and offer what it lists, in peer-up\'s format: {"services": [{"name": "stun", "version": "*", "url": "stun:HOST:PORT"}]}. A file that is not right is one line naming the file, the entry and the field (exit 1); the daemon keeps the set it had.',
    args: [],
    flags: [],
    reach: 'running'
  },
  {
    name: 'listen',
    synopsis: 'listen PROTOCOL [--port P] [--host H] [--cert FILE --key FILE]',
    describe: 'Open a service (ws, wss or tcp for peers; stun for a STUN binding server) and print a URL others can dial; kept across restarts.',
    args: [{ name: 'protocol', type: 'protocol', describe: 'ws, wss (TLS: give --cert and --key), tcp, or stun (RFC 5389 binding requests over UDP; prints stun:HOST:PORT)' }],
    flags: [
      { name: 'port', type: 'number', value: 'P', min: 0, max: 65535, describe: 'port (default: any free port)' },
      { name: 'cert', type: 'string', value: 'FILE', describe: 'wss only: the TLS certificate (PEM; a chain may follow it); its path is kept and the file read again at every daemon start' },
      { name: 'key', type: 'string', value: 'FILE', describe: 'wss only: the certificate\'s private key (PEM)' },
      { name: 'host', type: 'string', value: 'H', default: '127.0.0.1', describe: 'interface to listen on: an IP (IPv6 as ::1 or [::1]) or a name; 0.0.0.0 or :: listens on every interface and is not advertised to peers: give the daemon --advertise' }
    ],
    reach: 'autostart',
    examples: ['peernet listen ws', 'peernet listen tcp --port 7000 --host 0.0.0.0', 'peernet listen wss --port 443 --host 0.0.0.0 --cert cert.pem --key key.pem', 'peernet listen stun --port 3478'],
    rule: (args, flags) => {
      const tls = flags.cert !== undefined || flags.key !== undefined
      if (args.protocol !== 'wss') return tls ? `listen: --cert and --key are for wss, not ${String(args.protocol)}` : undefined
      if (flags.cert === undefined || flags.key === undefined) return 'listen wss needs --cert FILE and --key FILE (PEM): a TLS service must show a certificate'
    }
  },
  {
    name: 'unlisten',
    synopsis: 'unlisten ADDR',
    describe: 'Close a service opened by listen.',
    args: [{ name: 'addr', type: 'service', describe: 'the address `listen` printed (see `peernet servers`), stun:HOST:PORT for a STUN server' }],
    flags: [],
    reach: 'autostart'
  },
  {
    name: 'servers',
    synopsis: 'servers',
    describe: 'Print the local services.',
    args: [],
    flags: [],
    reach: 'autostart',
    listing: true
  },
  {
    name: 'stats',
    synopsis: 'stats ADDR',
    describe: 'Show connection and gossip statistics for ADDR (an address, or a peer id from `connections --json`); exit 1 when nothing is known about it.',
    args: [{ name: 'addr', type: 'peer', describe: 'address or peer id' }],
    flags: [],
    reach: 'autostart'
  },
  {
    name: 'completion',
    synopsis: 'completion',
    describe: 'Print a bash/zsh completion script (add `source <(peernet completion)` to your shell rc).',
    args: [],
    flags: [],
    reach: 'local'
  }
]

export function findCommand (name: string): Command | undefined {
  return COMMANDS.find(c => c.name === name || (c.aliases?.includes(name) ?? false))
}
