// Daemon settings: flags of `server`/`daemon` and keys of DATADIR/config.json, under one name
// each. The CLI shows them; the daemon reads and checks them with the same table. Flags apply
// to the daemon they start (a running one keeps its own); config.json applies at every start.
import { DEFAULT_CONNECTIONS, DEFAULT_INTERVAL, DEFAULT_PURGE, DEFAULT_HOPS, DEFAULT_NETWORK, MAX_CIRCUITS, CIRCUITS_PER_PEER, CIRCUIT_RATE } from '../node/defaults.js'
import { DEFAULT_TABLE_SIZE } from '../table/rules.js'
import { MAX_HOP_LIMIT } from '../wire/messages.js'
import { MAX_RELAY_RATE } from '../wire/relay.js'
import { parseIceServers, parseBindAddress, MAX_ICE_SERVERS } from '../transport/webrtc-signal.js'

export type FlagType = 'string' | 'number' | 'boolean' | 'array'
export interface Flag {
  name: string
  alias?: string
  type: FlagType
  describe: string
  default?: string | number | boolean
  /** Shown in help and the man page, e.g. MS. */
  value?: string
  /** Bounds of a number flag (integers only). */
  min?: number
  max?: number
  /** Each value is a peer address (checked as one: a bad one is a usage error). */
  address?: boolean
  /** Checks a string setting's value, or an array setting's list; throws a sentence saying what is wrong. */
  check?: (values: string[]) => unknown
}

/** Settings of a daemon: flags of server/daemon, and keys of DATADIR/config.json. */
export const SETTINGS: Flag[] = [
  { name: 'network', type: 'string', value: 'ID', describe: `network id; nodes of different ids refuse each other (default: ${DEFAULT_NETWORK})` },
  { name: 'connections', type: 'number', value: 'N', min: 0, max: 1000, describe: `outbound connections to keep open; inbound ones are accepted besides, up to a limit (default: ${DEFAULT_CONNECTIONS})` },
  { name: 'interval', type: 'number', value: 'MS', min: 0, describe: `time between gossip rounds, 0 turns gossip off (default: ${DEFAULT_INTERVAL})` },
  { name: 'purge', type: 'number', value: 'MS', min: 0, describe: `time between purges of dead addresses (default: ${DEFAULT_PURGE})` },
  { name: 'table-size', type: 'number', value: 'N', min: 1, describe: `bound on addresses learned from gossip (default: ${DEFAULT_TABLE_SIZE})` },
  { name: 'hops', type: 'number', value: 'N', min: 1, max: MAX_HOP_LIMIT, describe: `hop limit of searches (default: ${DEFAULT_HOPS})` },
  { name: 'bootstrap', type: 'array', value: 'ADDR', address: true, describe: 'address to add to the table at start (repeatable)' },
  { name: 'advertise', type: 'array', value: 'ADDR', address: true, describe: 'address this node can be dialed at, told to peers (repeatable)' },
  { name: 'http', type: 'string', value: '[HOST:]PORT', describe: 'serve the local HTTP API there (POST /peer-up, GET /status, GET /metrics); HOST must be loopback (default 127.0.0.1) unless --http-public; off by default' },
  { name: 'http-public', type: 'boolean', describe: 'let --http listen on an address that is not loopback and answer any Host: anyone who reaches it reads the node\'s status and metrics, and can make it search' },
  { name: 'introductions', type: 'boolean', describe: 'introduce this node\'s peers to a connected peer that asks (peernet introduce), and take links from introductions (default: on); --no-introductions turns both off' },
  { name: 'relay', type: 'boolean', describe: 'carry relayed links between two peers of this node that ask for one (connect by id\'s last step), within --relay-links, --relay-links-per-peer and --relay-rate (default: on); --no-relay turns it off (this node\'s own relayed links through others still work)' },
  { name: 'relay-links', type: 'number', value: 'N', min: 0, max: 10_000, describe: `relayed links this node carries at once (default: ${MAX_CIRCUITS})` },
  { name: 'relay-links-per-peer', type: 'number', value: 'N', min: 0, max: 10_000, describe: `relayed links one peer may have through this node (default: ${CIRCUITS_PER_PEER})` },
  { name: 'relay-rate', type: 'number', value: 'BYTES', min: 1024, max: MAX_RELAY_RATE, describe: `bytes a second a relayed link may carry each way (default: ${CIRCUIT_RATE})` },
  { name: 'webrtc', type: 'boolean', describe: 'open WebRTC links (connect by id\'s third step, for two nodes neither of which can dial the other) and answer them (default: on); --no-webrtc turns both off' },
  { name: 'ice', type: 'array', value: 'URL', check: parseIceServers, describe: `ICE server for WebRTC links: stun:HOST[:PORT] or turn:USER:PASS@HOST[:PORT] (turns: for TLS; repeatable, at most ${MAX_ICE_SERVERS}); none by default, so WebRTC links use direct addresses only and no outside server learns of them` },
  { name: 'webrtc-bind', type: 'string', value: 'IP', check: v => parseBindAddress(v[0]), describe: 'the address of this machine WebRTC links gather their candidates on (default: every interface but loopback; 127.0.0.1 for links within this machine)' },
  { name: 'meta', type: 'array', value: 'K=V', describe: 'metadata others see in this node\'s signed presence record, shown by peernet owner (repeatable; in config.json also as "metadata": {"K": "V"}; 1024 bytes in all)' }
]

/** Keys config.json may hold besides the SETTINGS: "metadata", an object, as the p2p seed's nodes carry it. */
export const CONFIG_ONLY = ['metadata']

/** K=V values (--meta) as an object, or an Error's text naming the one without a key. */
export function parseMeta (list: string[], label = '--meta'): Record<string, string> {
  const meta: Record<string, string> = {}
  for (const kv of list) {
    const at = kv.indexOf('=')
    if (at <= 0) throw new Error(`${label} ${JSON.stringify(kv)}: give KEY=VALUE`)
    meta[kv.slice(0, at)] = kv.slice(at + 1)
  }
  return meta
}

/** Check a number flag or setting against its bounds; throws an Error saying what is wrong. */
export function checkNumber (flag: Flag, value: unknown, label = `--${flag.name}`): number {
  const range = flag.min !== undefined && flag.max !== undefined ? ` (allowed: ${flag.min} to ${flag.max})` : ''
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(`${label} must be a whole number${range}`)
  if (flag.min !== undefined && value < flag.min) throw new Error(`${label} must be at least ${flag.min}${range}`)
  if (flag.max !== undefined && value > flag.max) throw new Error(`${label} must be at most ${flag.max}${range}`)
  return value
}

/** A setting's own check (Flag.check), its sentence under label; throws an Error. */
export function checkValues (flag: Flag, values: string[], label = `--${flag.name}`): void {
  if (flag.check === undefined) return
  try {
    flag.check(values)
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}`)
  }
}

/** Check a whole settings object (from config.json, or flags); throws naming the bad key. */
export function checkSettings (input: unknown, where: string): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error(`${where} must hold a JSON object`)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue
    if (key === 'metadata') {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every(v => typeof v === 'string')) throw new Error(`${where}: metadata must be an object of strings ({"K": "V"})`)
      out[key] = value
      continue
    }
    const flag = SETTINGS.find(f => f.name === key)
    if (!flag) throw new Error(`${where}: unknown setting "${key}" (known: ${[...SETTINGS.map(f => f.name), ...CONFIG_ONLY].join(', ')})`)
    const label = `${where}: ${key}`
    if (flag.type === 'number') out[key] = checkNumber(flag, value, label)
    else if (flag.type === 'string') {
      if (typeof value !== 'string' || value === '') throw new Error(`${label} must be a non-empty string`)
      checkValues(flag, [value], label)
      out[key] = value
    } else if (flag.type === 'array') {
      const list = Array.isArray(value) ? value : [value]
      if (!list.every(v => typeof v === 'string')) throw new Error(`${label} must be a list of strings`)
      checkValues(flag, list, label)
      out[key] = list
    } else if (typeof value !== 'boolean') {
      throw new Error(`${label} must be true or false`)
    } else {
      out[key] = value
    }
  }
  return out
}
