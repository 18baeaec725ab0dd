// The slow path: yargs, built from the same command table, for --help, usage errors and
// completion. Loaded only when the lean parser hands a command line over; the yargs package
// itself is imported in yargsParse, so the CLI's bundle (scripts/bundle.mjs) leaves it out.
import { COMMANDS, GLOBAL_FLAGS, findCommand, type Command, type Flag } from './commands.js'
import { checked, UsageError, type Parsed } from './parse.js'

type Argv = Record<string, unknown> & { _: Array<string | number> }

function option (f: Flag): Record<string, unknown> {
  return {
    type: f.type,
    describe: f.describe,
    ...(f.alias ? { alias: f.alias } : {}),
    ...(f.default !== undefined ? { default: f.default } : {}),
    ...(f.type === 'array' ? { nargs: 1 } : {}),
    ...(f.value ? { requiresArg: true } : {})
  }
}

/** The first word that is not a flag or a global flag's value: the command, if any. */
function firstWord (argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]
    if (tok === '--') return argv[i + 1]
    if (tok.startsWith('--get-yargs-completions')) return undefined
    if (!tok.startsWith('-') || tok === '-') return tok
    if (tok.includes('=')) continue
    const name = tok.replace(/^--?/, '')
    const flag = [...GLOBAL_FLAGS, ...COMMANDS.flatMap(c => c.flags)].find(f => f.name === name || f.alias === name)
    if (flag && flag.type !== 'boolean') i++
  }
  return undefined
}

/** Edit distance (insert, delete, substitute, swap two neighbours) between two short words. */
function distance (a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/** ' (did you mean "connect"?)' for a near miss of a command name or alias; '' when none is near. */
function suggest (word: string): string {
  const names = COMMANDS.flatMap(c => [c.name, ...(c.aliases ?? [])])
  const w = word.toLowerCase()
  const scored = names.map(n => ({ n, d: n.startsWith(w) && w.length >= 2 ? 1 : distance(w, n) }))
  const best = Math.min(...scored.map(x => x.d))
  if (best > (w.length <= 4 ? 1 : 2)) return ''
  const near = scored.filter(x => x.d === best).map(x => `"${x.n}"`).slice(0, 3)
  return ` (did you mean ${near.join(' or ')}?)`
}

function usageLine (c: Command): string {
  const args = c.args.map(a => a.variadic ? `<${a.name}..>` : a.optional === true ? `[${a.name}]` : `<${a.name}>`).join(' ')
  return args ? `${c.name} ${args}` : c.name
}

/**
 * Parse with yargs. Resolves to the parsed command, or null when yargs has already done the
 * whole job (printed help or a completion script). Throws UsageError for a bad command line.
 */
/**
 * yargs drops a lone "-" and ignores words after "--"; both are positionals to us. They go to
 * yargs as placeholder words and come back in the handler.
 */
function shield (argv: string[]): { args: string[], unshield: (v: string) => string } {
  const kept: string[] = []
  const args: string[] = []
  const hold = (v: string): string => { kept.push(v); return `\u0000${kept.length - 1}` }
  const dash = argv.indexOf('--')
  argv.forEach((tok, i) => {
    if (dash >= 0 && i === dash) return
    if ((dash >= 0 && i > dash) || tok === '-') args.push(hold(tok))
    else args.push(tok)
  })
  return { args, unshield: v => v.startsWith('\u0000') ? kept[Number(v.slice(1))] : v }
}

export async function yargsParse (argv: string[], version: string, env: NodeJS.ProcessEnv = process.env): Promise<Parsed | null> {
  const first = firstWord(argv)
  if (first !== undefined && findCommand(first) === undefined) throw new UsageError(`unknown command "${first}"${suggest(first)}`)
  // yargs' completion command prints its script whatever follows; --help there asks what it is.
  if (first === 'completion' && argv.some(a => a === '--help' || a === '-h')) {
    process.stdout.write(`peernet completion\n\n${(findCommand(first) as Command).describe}\n`)
    return null
  }
  // A completion request passes the words typed so far: "--" may be the word being completed.
  const completing = argv.some(a => a.startsWith('--get-yargs-completions'))
  const { args, unshield } = completing ? { args: argv, unshield: (v: string) => v } : shield(argv)
  let result: Parsed | null = null
  const { default: yargs } = await import('yargs')
  const y = (yargs as unknown as (args: string[]) => any)(args) // eslint-disable-line @typescript-eslint/no-explicit-any
    .scriptName('peernet')
    .usage('peernet <command> [options]\n\nA peer-to-peer gossip network: find the members of named subnets.')
    .parserConfiguration({ 'parse-positional-numbers': false, 'camel-case-expansion': false })
    .exitProcess(false)
    .strict()
    .help()
    .alias('h', 'help')
    .wrap(Math.min(100, process.stdout.columns || 80))
    .fail((msg: string | null, err: Error | null) => {
      if (err instanceof UsageError) throw err
      const c = first === undefined ? undefined : findCommand(first)
      if (c && msg !== null && /^Not enough non-option arguments/.test(msg)) throw new UsageError(`usage: peernet ${c.synopsis}`)
      throw new UsageError(msg ?? err?.message ?? 'bad command line')
    })
  // A command with a --version of its own (offer: the service's, as peer-up names it) gets it;
  // `peernet --version` alone is main.ts's, before any parser.
  if (first !== undefined && findCommand(first)?.flags.some(f => f.name === 'version') === true) y.version(false)
  else y.version(version).alias('V', 'version')
  for (const f of GLOBAL_FLAGS) y.option(f.name, { ...option(f), global: true })
  for (const c of COMMANDS) {
    if (c.name === 'completion') {
      y.completion('completion', c.describe)
      continue
    }
    y.command({
      command: usageLine(c),
      aliases: c.aliases ?? [],
      describe: c.describe,
      builder: (cy: any) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        for (const f of c.flags) cy.option(f.name, option(f))
        // Accepted everywhere (harmless), shown only where it does something.
        if (c.reach !== 'autostart') cy.hide('autostart')
        if (c.noJson !== undefined) cy.hide('json')
        // No default: yargs would show "[default: []]" next to "[required]" for a variadic one.
        for (const a of c.args) cy.positional(a.name, { type: 'string', describe: a.describe, default: undefined })
        for (const ex of c.examples ?? []) cy.example(ex, '')
        return cy
      },
      handler: (parsed: Argv) => {
        const command = findCommand(c.name) as Command
        const positionals = command.args.flatMap(a => {
          const v = parsed[a.name]
          return v === undefined ? [] : Array.isArray(v) ? v.map(x => unshield(String(x))) : [unshield(String(v))]
        })
        const flags: Record<string, unknown> = {}
        for (const f of [...GLOBAL_FLAGS, ...command.flags]) if (parsed[f.name] !== undefined) flags[f.name] = parsed[f.name]
        result = checked(command, positionals, flags, env)
      }
    })
  }
  y.demandCommand(1, 'say which command to run')
  await y.parseAsync()
  const askedForText = argv.some(a => a === '--help' || a === '-h' || a === '--version' || a === '-V' || a.startsWith('--get-yargs-completions')) || first === 'completion'
  if (result === null && !askedForText) throw new UsageError('say which command to run')
  return result
}
