// The lean argument parser: handles the common path straight from the command table, and
// returns null for anything else (help, completion, a usage error), which yargs then handles
// from the same table. Validation of values lives here once and serves both.
import { GLOBAL_FLAGS, findCommand, type Command, type Flag, type Arg } from './commands.js'
import { parseAddress, parsePinned, formatPinned, NETWORK_SCHEMES, NODE_ID } from '../transport/address.js'
import { checkSubnet } from '../wire/messages.js'
import { SERVICE_NAME, MAX_MESSAGE } from '../wire/record.js'
import { parseStunUrl } from '../stun/url.js'
import { checkNumber, checkValues } from '../control/settings.js'
import { MAX_OWNER_VALUE } from '../control/protocol.js'

export interface Parsed {
  command: Command
  /** Positional arguments by name (variadic ones as arrays), validated and normalised. */
  args: Record<string, unknown>
  /** Flags by their table name, defaults applied. */
  flags: Record<string, unknown>
}

export class UsageError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** An address the daemon can dial: mem:// lives only inside one process (tests, simulations). */
export function dialable (value: string): string {
  return parseAddress(value, { schemes: NETWORK_SCHEMES }).href
}

/** The same, optionally with the id it must reach before it (ID@ADDR). */
export function dialablePinned (value: string): string {
  return formatPinned(parsePinned(value, { schemes: NETWORK_SCHEMES }))
}

/**
 * A message as send takes it: JSON text, compacted (what travels), at most MAX_MESSAGE bytes.
 * `where` names where it came from, for the error.
 */
export function messageJson (text: string, where: string): string {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new UsageError(`${where} is not JSON (a string needs its quotes: '"hi"')`)
  }
  const json = JSON.stringify(value)
  const size = Buffer.byteLength(json, 'utf8')
  if (size > MAX_MESSAGE) throw new UsageError(`${where} is too large: ${size} bytes of JSON, over MAX_MESSAGE (${MAX_MESSAGE})`)
  return json
}

/** Check and normalise one positional value; throws UsageError. */
export function checkArg (arg: Arg, value: string): string {
  try {
    switch (arg.type) {
      case 'address': return dialable(value)
      // An id alone: the daemon finds that node through the ring.
      case 'pinned':
        if (!/^[0-9a-f]+$/i.test(value)) return dialablePinned(value)
        if (!NODE_ID.test(value.toLowerCase())) throw new Error(`"${value}" is not a node id (64 hex digits) nor an address (tcp://HOST:PORT, ws://HOST:PORT)`)
        return value.toLowerCase()
      case 'address-or-stdin': return value === '-' ? value : dialablePinned(value)
      // A service's own name may be bound to every interface (ws://0.0.0.0:P): no peer, but a service.
      // A STUN server is named by its stun: URI (no //: RFC 7064), the others by their URL.
      case 'service': return /^stun:/i.test(value) ? parseStunUrl(value).href : parseAddress(value, { schemes: NETWORK_SCHEMES, local: true }).href
      case 'subnet': return checkSubnet(value)
      case 'service-name':
        if (!SERVICE_NAME.test(value)) throw new Error(`"${value}" is not a service name: 1 to 64 of a-z, 0-9, dot and dash, starting with a letter or digit`)
        return value
      // The offer's whole check (its scheme, length, characters) is the command's rule.
      case 'url':
        if (value === '') throw new Error('the URL is empty')
        return value
      case 'value':
        if (value === '') throw new Error('the value is empty')
        if (value.length > MAX_OWNER_VALUE) throw new Error(`the value is longer than ${MAX_OWNER_VALUE} characters (MAX_OWNER_VALUE)`)
        return value
      case 'protocol':
        if (value !== 'ws' && value !== 'tcp' && value !== 'wss' && value !== 'stun') throw new Error(`cannot listen on "${value}": use ws, wss, tcp or stun`)
        return value
      case 'node-id':
        if (!NODE_ID.test(value.toLowerCase())) throw new Error(`"${value.slice(0, 80)}" is not a node id: 64 hex digits (\`peernet id\` prints one)`)
        return value.toLowerCase()
      // Stdin is read when the command runs (and checked the same way there).
      case 'json-or-stdin': return value === '-' ? value : messageJson(value, 'the message')
      case 'peer':
        if (value === '') throw new Error('empty address')
        if (value.includes('://')) return dialable(value)
        if (!NODE_ID.test(value.toLowerCase())) throw new Error(`"${value}" is neither an address (tcp://HOST:PORT, ws://HOST:PORT) nor a peer id (hex, from peernet connections --json)`)
        return value.toLowerCase()
    }
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/** Check a flag's value: numbers against their bounds, strings non-empty; throws UsageError. */
export function checkFlag (flag: Flag, value: unknown): unknown {
  if (value === undefined) return value
  const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v !== ''
  if (flag.type === 'string' && !nonEmpty(value)) throw new UsageError(`--${flag.name} needs a value`)
  if (flag.type === 'array' && !(Array.isArray(value) && value.every(nonEmpty))) throw new UsageError(`--${flag.name} needs a value`)
  // A bad address is a usage error wherever it is given (arguments, add -, --bootstrap).
  if (flag.address === true) {
    for (const v of value as string[]) {
      try {
        dialable(v)
      } catch (err) {
        throw new UsageError(`--${flag.name}: ${(err as Error).message}`)
      }
    }
  }
  try {
    checkValues(flag, Array.isArray(value) ? value as string[] : [value as string])
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (flag.type !== 'number') return value
  try {
    return checkNumber(flag, value)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/** Check positionals against a command's args; throws UsageError. */
export function checkArgs (command: Command, values: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  let i = 0
  for (const arg of command.args) {
    if (arg.variadic) {
      const rest = values.slice(i)
      if (rest.length === 0) throw new UsageError(`${command.name}: missing ${arg.name.toUpperCase()}`)
      out[arg.name] = rest.map(v => checkArg(arg, v))
      i = values.length
    } else {
      if (i >= values.length && arg.optional === true) break
      if (i >= values.length) throw new UsageError(`${command.name}: missing ${arg.name.toUpperCase()}`)
      out[arg.name] = checkArg(arg, values[i++])
    }
  }
  if (i < values.length) throw new UsageError(`${command.name}: unexpected argument "${values[i]}"`)
  return out
}

/** A command line both parsers have taken apart, checked: args, flags, then the command's rule. */
export function checked (command: Command, positionals: string[], flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Parsed {
  const parsed = { command, args: checkArgs(command, positionals), flags: finishFlags(command, flags, env) }
  const broken = command.rule?.(parsed.args, parsed.flags)
  if (broken !== undefined) throw new UsageError(broken)
  return parsed
}

/** Apply defaults and the environment to parsed flags. */
export function finishFlags (command: Command, flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  for (const f of [...GLOBAL_FLAGS, ...command.flags]) {
    if (flags[f.name] === undefined && f.default !== undefined) flags[f.name] = f.default
    checkFlag(f, flags[f.name])
  }
  if (flags.json === true && command.noJson !== undefined) throw new UsageError(`${command.name} takes no --json: ${command.noJson}`)
  if (noAutostart(env)) flags.autostart = false
  return flags
}

const YES = ['1', 'true', 'yes', 'on']
const NO = ['0', 'false', 'no', 'off', '']

/** PEERNET_NO_AUTOSTART: yes/on/1/true turn auto-start off; no/off/0/false, empty or unset leave it on. */
export function noAutostart (env: NodeJS.ProcessEnv): boolean {
  const v = env.PEERNET_NO_AUTOSTART
  if (v === undefined) return false
  const word = v.trim().toLowerCase()
  if (YES.includes(word)) return true
  if (NO.includes(word)) return false
  throw new UsageError(`PEERNET_NO_AUTOSTART must be one of yes, no, on, off, 1, 0, true, false (it is ${JSON.stringify(v.slice(0, 40))})`)
}

/**
 * Parse argv on the fast path. Returns null when the line needs yargs: --help, completion, no
 * command, an unknown command or flag, a repeatable flag, or anything malformed.
 */
export function leanParse (argv: string[], env: NodeJS.ProcessEnv = process.env): Parsed | null {
  let command: Command | undefined
  const positionals: string[] = []
  const flags: Record<string, unknown> = {}
  const lookup = (key: string): Flag | undefined =>
    [...GLOBAL_FLAGS, ...(command?.flags ?? [])].find(f => f.name === key || f.alias === key)
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]
    if (tok === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (tok.startsWith('-') && tok !== '-') {
      const long = tok.startsWith('--')
      let key = long ? tok.slice(2) : tok.slice(1)
      let inline: string | undefined
      const eq = key.indexOf('=')
      if (eq >= 0) {
        inline = key.slice(eq + 1)
        key = key.slice(0, eq)
      }
      if (!long && key.length !== 1) return null
      let flag = lookup(key)
      let negated = false
      if (!flag && long && key.startsWith('no-') && inline === undefined) {
        flag = lookup(key.slice(3))
        negated = flag?.type === 'boolean'
        if (!negated) return null
      }
      if (!flag || flag.type === 'array' || flags[flag.name] !== undefined) return null
      if (flag.type === 'boolean') {
        if (inline !== undefined) return null
        flags[flag.name] = !negated
        continue
      }
      const value = inline ?? argv[++i]
      if (value === undefined || (inline === undefined && value.startsWith('-') && value !== '-')) return null
      if (flag.type === 'number') {
        if (!/^-?\d+$/.test(value)) return null
        flags[flag.name] = Number(value)
      } else {
        flags[flag.name] = value
      }
      continue
    }
    if (command === undefined) {
      command = findCommand(tok)
      if (command === undefined || command.name === 'completion') return null
    } else {
      positionals.push(tok)
    }
  }
  if (command === undefined) return null
  try {
    return checked(command, positionals, flags, env)
  } catch {
    return null
  }
}
