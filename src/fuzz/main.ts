// `npm run fuzz -- --count N --seed S [--live SHARE] [--json]`: run the fuzz harness and print
// its figures. Exits 1 when anything crashed.
import { runFuzz, type FuzzReport } from './fuzz.js'

function arg (name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  const v = Number(process.argv[i + 1])
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`fuzz: --${name} needs a number\n`)
    process.exit(2)
  }
  return v
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

function line (r: FuzzReport): string {
  return `${r.inputs} inputs (${r.codecInputs} codec, ${r.liveInputs} live), ${r.crashes} crashes, ` +
    `${r.unhandledRejections} unhandled rejections, ${r.honestChecks - r.honestFailures}/${r.honestChecks} honest searches answered, ` +
    `${r.rawPeers} raw peers (${r.rawDropped} dropped), peak RSS ${mb(r.peakRss)}, ${(r.ms / 1000).toFixed(1)} s`
}

const count = arg('count', 100_000)
const seed = arg('seed', 1)
const live = arg('live', 0.3)
const asJson = process.argv.includes('--json')

const report = await runFuzz({
  count,
  seed,
  liveShare: live,
  progressEvery: 100_000,
  progress: r => { if (!asJson) process.stderr.write(`fuzz: ${line(r)}\n`) }
})
if (asJson) {
  process.stdout.write(JSON.stringify(report) + '\n')
} else {
  process.stdout.write(`fuzz seed ${report.seed}: ${line(report)}\n`)
  process.stdout.write(`codec: ${report.messages} valid messages, ${report.wireErrors} WireErrors; node: seen ${report.seen}/${report.maxSeen}, known ${report.known}, ${report.nodeErrors} error events\n`)
  for (const s of report.samples) process.stdout.write(`crash [${s.where}] ${s.kind}: ${s.error}${s.input ? ` input(base64)=${s.input}` : ''}\n`)
}
process.exitCode = report.crashes === 0 ? 0 : 1
