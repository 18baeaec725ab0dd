// The peernet command line. The common path is lean: a command table, a small parser, one
// socket round trip. yargs (help, usage errors, completion) loads only when needed.
import { leanParse, UsageError } from './parse.js'
import { version } from '../control/version.js'
import { humanize } from '../control/errors.js'

async function main (): Promise<void> {
  const argv = process.argv.slice(2)
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(version() + '\n')
    return
  }
  let parsed = leanParse(argv)
  if (parsed === null) {
    const { yargsParse } = await import('./yargs.js')
    parsed = await yargsParse(argv, version())
    if (parsed === null) return
  }
  const { run } = await import('./run.js')
  await run(parsed)
}

main().catch((err: Error) => {
  // One line, never a stack trace: what failed and, where we know it, what to do.
  // Raw errno codes and OpenSSL strings, from anywhere below, leave as sentences.
  const msg = humanize((err?.message ?? String(err)).split('\n')[0])
  process.stderr.write(`peernet: ${msg}${err instanceof UsageError ? ' (see peernet --help)' : ''}\n`)
  process.exitCode = err instanceof UsageError ? 2 : 1
})
