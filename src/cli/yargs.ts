// The slow path: yargs, built from the same command table, for --help, usage errors and
// completion. Loaded only when the lean parser hands a command line over.
import yargs from 'yargs'
import { COMMANDS, GLOBAL_FLAGS, findCommand, type Command, type Flag } from './commands.js'
import { checkArgs, finishFlags, UsageError, type Parsed } from './parse.js'

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
    const name = tok.replace(/^--?/, '')
    const flag = GLOBAL_FLAGS.find(f => f.name === name)
    if (flag && flag.type !== 'boolean') i++
  }
  return undefined
}

function usageLine (c: Command): string {
  const args = c.args.map(a => a.variadic ? `<${a.name}..>` : `<${a.name}>`).join(' ')
  return args ? `${c.name} ${args}` : c.name
}

/**
 * Parse with yargs. Resolves to the parsed command, or null when yargs has already done the
 * whole job (printed help or a completion script). Throws UsageError for a bad command line.
 */
export async function yargsParse (argv: string[], version: string, env: NodeJS.ProcessEnv = process.env): Promise<Parsed | null> {
  const first = firstWord(argv)
  if (first !== undefined && findCommand(first) === undefined) throw new UsageError(`unknown command "${first}"`)
  let result: Parsed | null = null
  const y = (yargs as unknown as (args: string[]) => any)(argv) // eslint-disable-line @typescript-eslint/no-explicit-any
    .scriptName('peernet')
    .usage('peernet <command> [options]\n\nA peer-to-peer gossip network: find the members of named subnets.')
    .parserConfiguration({ 'parse-positional-numbers': false, 'camel-case-expansion': false })
    .exitProcess(false)
    .strict()
    .version(version)
    .alias('V', 'version')
    .help()
    .alias('h', 'help')
    .wrap(Math.min(100, process.stdout.columns || 80))
    .fail((msg: string | null, err: Error | null) => {
      if (err instanceof UsageError) throw err
      const c = first === undefined ? undefined : findCommand(first)
      if (c && msg !== null && /^Not enough non-option arguments/.test(msg)) throw new UsageError(`usage: peernet ${c.synopsis}`)
      throw new UsageError(msg ?? err?.message ?? 'bad command line')
    })
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
        for (const a of c.args) cy.positional(a.name, { type: 'string', describe: a.describe })
        for (const ex of c.examples ?? []) cy.example(ex, '')
        return cy
      },
      handler: (parsed: Argv) => {
        const command = findCommand(c.name) as Command
        const positionals = command.args.flatMap(a => {
          const v = parsed[a.name]
          return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]
        })
        const flags: Record<string, unknown> = {}
        for (const f of [...GLOBAL_FLAGS, ...command.flags]) if (parsed[f.name] !== undefined) flags[f.name] = parsed[f.name]
        result = { command, args: checkArgs(command, positionals), flags: finishFlags(command, flags, env) }
      }
    })
  }
  y.demandCommand(1, 'say which command to run')
  await y.parseAsync()
  return result
}
