// `npm run sim`: the simulation's command line.
import { writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { totalmem, availableParallelism } from 'node:os'
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { simulate, DEFAULTS, MIN_INTERVALS, type SimOptions, type RunOptions } from './scenario.js'
import { MAX_THREADS } from './parallel.js'
import type { SimResult } from './results.js'
import { heapGrowth, HEAP_GROWING_PERCENT } from './collect.js'
import { poolBuffers } from './buffers.js'
import { rows, text, svg, dot, type RunInfo } from './report.js'
import { MAX_ADDRS_PER_MESSAGE } from '../wire/messages.js'

export const USAGE = `usage: npm run sim -- [options]

Runs real peernet nodes (the daemon's Peernet class), each on a store that keeps nothing, over the
in-memory transport (mem://), on a virtual clock and a seeded random source, and reports
convergence, overlay degree, subnet search and churn figures.

  --nodes N          nodes (default ${DEFAULTS.nodes}; at least 20)
  --intervals N      gossip intervals to run (default ${DEFAULTS.intervals}; at least ${MIN_INTERVALS})
  --seed S           random seed: the same seed gives the same figures (default ${DEFAULTS.seed})
  --table N          bound on each node's gossip-learned table (default ${DEFAULTS.table})
  --sample N         addresses per gossip answer, 1..${MAX_ADDRS_PER_MESSAGE} (default ${DEFAULTS.sample})
  --connections N    connections each node keeps (default ${DEFAULTS.connections})
  --searches N       searches per subnet (1, 10, 100 members) in the search phase (default ${DEFAULTS.searches})
  --slow-links S     share of nodes, 0..1, whose links each take two steps each way (${DEFAULTS.latency * 2} ms, not
                     ${DEFAULTS.latency}): a network whose latencies differ (default ${DEFAULTS.slowLinks})
  --threads N        threads to share the nodes, 1..${MAX_THREADS} (default: one per core, at most 2); a seed
                     gives one result for a given thread count
  --json             NDJSON rows instead of the table
  --svg FILE         draw the convergence and churn curves as an SVG chart
  --dot FILE         write the final overlay as Graphviz DOT
  --progress         a line of progress per interval on stderr
  --help             this text
`

export interface Args extends RunOptions { json: boolean, svg?: string, dot?: string, progress: boolean, help: boolean, threads: number }

/** Threads when --threads is not given: one per core, at most two (the measured gain stops there on this machine's two). */
export const DEFAULT_THREADS = Math.max(1, Math.min(2, availableParallelism()))

export class UsageError extends Error {}

const INTS: Record<string, [keyof SimOptions, number, number]> = {
  '--nodes': ['nodes', 20, 1_000_000],
  '--intervals': ['intervals', MIN_INTERVALS, 100_000],
  '--table': ['table', 1, 10_000_000],
  '--sample': ['sample', 1, MAX_ADDRS_PER_MESSAGE],
  '--connections': ['connections', 1, 64],
  '--searches': ['searches', 1, 1_000_000],
  '--threads': ['threads' as keyof SimOptions, 1, MAX_THREADS]
}

/** A seed: a non-negative integer below 2^32, or any other text (hashed). */
export function parseSeed (s: string): number {
  if (/^\d+$/.test(s) && Number(s) < 2 ** 32) return Number(s)
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return h
}

export function parseArgs (argv: string[]): Args {
  const a: Args = { ...DEFAULTS, json: false, progress: false, help: false, threads: DEFAULT_THREADS }
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i]
    let value: string | undefined
    const eq = flag.indexOf('=')
    if (flag.startsWith('--') && eq > 0) {
      value = flag.slice(eq + 1)
      flag = flag.slice(0, eq)
    }
    const need = (): string => {
      if (value !== undefined) return value
      const v = argv[++i]
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`)
      return v
    }
    const noValue = (): void => { if (value !== undefined) throw new UsageError(`${flag} takes no value`) }
    if (flag in INTS) {
      const [key, min, max] = INTS[flag]
      const v = need()
      if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${flag} must be an integer in ${min}..${max}, not "${v}"`)
      ;(a as unknown as Record<string, number>)[key] = Number(v)
    } else if (flag === '--seed') {
      const v = need()
      if (v === '') throw new UsageError('--seed needs a value')
      a.seed = parseSeed(v)
    } else if (flag === '--slow-links') {
      const v = need()
      if (!/^(0|1|0?\.\d+|1\.0*)$/.test(v)) throw new UsageError(`--slow-links must be a share from 0 to 1, not "${v}"`)
      a.slowLinks = Number(v)
    } else if (flag === '--svg' || flag === '--dot') {
      const v = need()
      if (v === '') throw new UsageError(`${flag} needs a file name`)
      a[flag === '--svg' ? 'svg' : 'dot'] = v
    } else if (flag === '--json') {
      noValue(); a.json = true
    } else if (flag === '--progress') {
      noValue(); a.progress = true
    } else if (flag === '--help' || flag === '-h') {
      noValue(); a.help = true
    } else {
      throw new UsageError(`unknown ${flag.startsWith('-') ? 'flag' : 'argument'} "${flag}" (see --help)`)
    }
  }
  return a
}

export async function main (argv: string[]): Promise<number> {
  let args: Args
  try {
    args = parseArgs(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`peernet sim: ${err.message}\n`)
    return 2
  }
  if (args.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const { json, svg: svgFile, dot: dotFile, progress, help: _, threads, ...opts } = args
  const started = Date.now()
  if (threads <= 1) poolBuffers()
  const result = threads > 1
    ? await inThreads(opts, threads, progress)
    : await simulate({ ...opts, growHeap: heapGrowth(), progress: progress ? line => process.stderr.write(line + '\n') : undefined })
  const run: RunInfo = { wallMs: Date.now() - started, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }
  if (json) for (const r of rows(result, run)) process.stdout.write(JSON.stringify(r) + '\n')
  else process.stdout.write(text(result, run))
  if (svgFile) writeFileSync(svgFile, svg(result))
  if (dotFile) writeFileSync(dotFile, dot(result))
  return 0
}

/** The old generation a run may grow to, MB: three quarters of the machine's memory, at least 4 GB. */
function oldSpaceMb (): number {
  return Math.max(4096, Math.floor(totalmem() / 2 ** 20 * 0.75))
}

/** The run over `count` threads (thread.ts), each with a port to every other; the first's result. */
export async function inThreads (opts: RunOptions, count: number, progress: boolean): Promise<SimResult> {
  const ports: Array<Array<MessagePort | null>> = Array.from({ length: count }, () => new Array<MessagePort | null>(count).fill(null))
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) {
      const { port1, port2 } = new MessageChannel()
      ports[i][j] = port1
      ports[j][i] = port2
    }
  }
  const signal = new SharedArrayBuffer(4 * count)
  const file = new URL('./thread.js', import.meta.url)
  const workers = ports.map((mine, index) => new Worker(file, {
    workerData: { opts, index, count, ports: mine, signal, progress },
    // Each thread's heap limit is its own: as large as the process's would be.
    resourceLimits: { maxOldGenerationSizeMb: oldSpaceMb() },
    transferList: mine.filter((p): p is MessagePort => p !== null)
  }))
  try {
    const results = await Promise.all(workers.map(w => new Promise<SimResult | null>((resolve, reject) => {
      w.on('message', (m: { progress?: string, result?: SimResult, done?: boolean, error?: string }) => {
        if (m.progress !== undefined) process.stderr.write(m.progress + '\n')
        else if (m.error !== undefined) reject(new Error(m.error.split('\n')[0]))
        else resolve(m.result ?? null)
      })
      w.on('error', reject)
      w.on('exit', code => reject(new Error(`a simulation thread stopped (exit ${code})`)))
    })))
    return results[0] as SimResult
  } finally {
    await Promise.all(workers.map(async w => await w.terminate()))
  }
}

/** Each semi-space of V8's young generation, MB (see relaunch). */
export const SEMI_SPACE_MB = 64

/**
 * V8's flags for a run over several threads (see relaunch): each thread scavenges on its own
 * core with no helper threads, all at the same step (CrossNet.scavengeTogether), and V8 does not
 * start one early from a task (at 80% of the room; the threads start theirs at YOUNG_FULL).
 * A scavenge's helpers took the core the other thread ran on, and the other thread then waited
 * for the scavenge at its next exchange. The gate command alone, four runs with these flags
 * between five without, one after another over an hour: 0.93 of the wall and 0.94 of the user
 * CPU on average. Either part alone was no gain (RESULTS.md).
 */
export const THREAD_GC_FLAGS: readonly string[] = ['--no-parallel-scavenge', '--no-minor-gc-task']

/** THREAD_GC_FLAGS when argv asks for more than one thread (none when it does not parse). */
export function gcFlagsFor (argv: string[]): readonly string[] {
  try {
    return parseArgs(argv).threads > 1 ? THREAD_GC_FLAGS : []
  } catch {
    return []
  }
}

/**
 * V8's defaults are tuned for small heaps: the sim's tables live long and churn constantly, so
 * run it with a young generation big enough that scavenges stop dominating, and an old
 * generation sized to the machine (the 4 GB default does not hold 10,000 nodes' tables). With
 * that much room V8 lets the old generation grow to three or four times what is live before it
 * collects; growing it by half instead cut the peak RSS by a third at 2,000 nodes for no
 * measurable time. A young generation of SEMI_SPACE_MB: what a scavenge costs grows with the old
 * generation (pages and remembered slots to visit), not only with what survives, so at 10,000
 * nodes half as many scavenges are worth the room (5,000 nodes, one thread each side by side,
 * the whole run: 64 MB against 32, user CPU 0.93, every phase as fast or faster; peak RSS +33 MB
 * a thread). Growing it by
 * HEAP_GROWING_PERCENT: what is live before the kill is held still, garbage fills the rest, so
 * this bounds the peak (5,000 nodes side by side: 35% against 50%, peak RSS 0.94, user CPU
 * 1.02; 25% cost 1.08). Once 30%, when at 35% the 10,000-node run's peak came within 0.1% of
 * 4 GB; 50% since its link ends got leaner (collect.ts).
 * While nodes join the scenario lets it grow by JOIN_HEAP_GROWING_PERCENT, and after the kill by
 * KILLED_HEAP_GROWING_PERCENT (collect.ts), only in a run started here. A run over several
 * threads gets THREAD_GC_FLAGS too. Done by running this file again with those flags, unless
 * they are already given.
 */
function relaunch (): number | null {
  if (process.env.PEERNET_SIM_CHILD === '1') return null
  if (process.execArgv.some(a => /max-old-space-size|max-semi-space-size|heap-growing-percent/.test(a))) return null
  const oldSpace = oldSpaceMb()
  const r = spawnSync(process.execPath, [
    ...process.execArgv, `--max-old-space-size=${oldSpace}`, `--max-semi-space-size=${SEMI_SPACE_MB}`, `--heap-growing-percent=${HEAP_GROWING_PERCENT}`,
    ...gcFlagsFor(process.argv.slice(2)),
    fileURLToPath(import.meta.url), ...process.argv.slice(2)
  ], { stdio: 'inherit', env: { ...process.env, PEERNET_SIM_CHILD: '1' } })
  if (r.error) throw r.error
  return r.status ?? 1
}

// Run only as the program (npm run sim): a test imports parseArgs without starting a run.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = relaunch()
  if (code !== null) {
    process.exitCode = code
  } else {
    main(process.argv.slice(2)).then(c => { process.exitCode = c }, err => {
      process.stderr.write(`peernet sim: ${(err as Error).message}\n`)
      process.exitCode = 1
    })
  }
}
