#!/usr/bin/env node
// CLI start-up: how long `peernet connections` takes against a running daemon (parse, one
// socket round trip, print), next to a bare `node -e 0` measured in the same run, interleaved:
// each round runs every case once, so each figure is the median of RUNS pairs with the baseline.
// Also `peernet --version` (the shortest path) and `peernet --help` (the yargs path).
//   node bench/cli-startup.mjs [--json] [--quick] [--runs N]   (30 rounds, --quick too)
// With --json: one NDJSON row per figure on stdout, the human lines on stderr.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { performance } from 'node:perf_hooks'

const BIN = new URL('../bin/peernet', import.meta.url).pathname
const argv = process.argv.slice(2)
const asJson = argv.includes('--json')
const runsAt = argv.indexOf('--runs')
const RUNS = runsAt >= 0 ? Math.max(20, Number(argv[runsAt + 1])) : 30
const WARMUP = 3

const say = line => (asJson ? process.stderr : process.stdout).write(line + '\n')

const dir = mkdtempSync('/tmp/pnbench-')
const env = { ...process.env, PEERNET_PATH: dir, PEERNET_NO_AUTOSTART: '1' }

function run (args, { check = true } = {}) {
  const start = performance.now()
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  const ms = performance.now() - start
  if (check && r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${(r.stderr || '').trim()}`)
  return { ms, stdout: r.stdout }
}

function median (xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d

const CASES = {
  baseline: ['-e', '0'],
  connections: [BIN, 'connections'],
  version: [BIN, '--version'],
  help: [BIN, '--help']
}

function stopDaemon () {
  const r = spawnSync(process.execPath, [BIN, 'close'], { env, stdio: 'ignore', timeout: 20000 })
  if (r.status === 0) return
  try {
    process.kill(Number(readFileSync(`${dir}/peernet.pid`, 'utf8')), 'SIGKILL')
  } catch {}
}

try {
  // Gossip off: an idle daemon, so only the client is measured.
  run([BIN, 'daemon', '--interval', '0'])
  const times = Object.fromEntries(Object.keys(CASES).map(k => [k, []]))
  const names = Object.keys(CASES)
  for (let i = 0; i < WARMUP + RUNS; i++) {
    // Interleaved, and the order rotates each round so no case always runs first.
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length]
      const { ms } = run(CASES[name])
      if (i >= WARMUP) times[name].push(ms)
    }
  }
  const baseline = median(times.baseline)
  say(`cli-startup: ${RUNS} runs each, interleaved; node -e 0 median ${baseline.toFixed(1)} ms`)
  for (const metric of ['connections', 'version', 'help']) {
    const value = median(times[metric])
    const ratio = value / baseline
    say(`cli-startup: peernet ${metric === 'connections' ? 'connections' : `--${metric}`} median ${value.toFixed(1)} ms = ${ratio.toFixed(2)}x node -e 0`)
    if (asJson) process.stdout.write(JSON.stringify({ bench: 'cli-startup', metric, value: round(value), unit: 'ms', baseline: round(baseline), ratio: round(ratio, 3) }) + '\n')
  }
} finally {
  stopDaemon()
  rmSync(dir, { recursive: true, force: true })
}
