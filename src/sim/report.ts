// The sim's outputs: a human table, NDJSON rows, an SVG chart and a Graphviz DOT overlay.
import { KILL_SHARE, STEADY_CHURN } from './scenario.js'
import { type SimResult, type IntervalRow, mean, round } from './results.js'

export interface RunInfo { wallMs: number, peakRssMB: number }

/** Every figure as one NDJSON row each; the `run` row (time, memory) is the only one that varies. */
export function rows (r: SimResult, run?: RunInfo): object[] {
  const out: object[] = []
  out.push({ row: 'settings', ...r.settings, phases: r.phases })
  for (const c of r.convergence.reach) {
    out.push({ row: 'convergence', share: c.share, medianIntervals: c.median, maxIntervals: c.max, probesReached: c.reached, probes: r.convergence.probes })
  }
  out.push({ row: 'presence', holdsPeak: r.convergence.holdsPeak, holdsAtKill: r.convergence.holdsAtKill, tableShare: r.convergence.tableShare })
  for (const d of r.degree) out.push({ row: 'degree', ...d })
  for (const s of r.search) out.push({ row: 'search', ...s })
  if (r.owner !== null) out.push({ row: 'owner', ...r.owner })
  out.push({ row: 'upkeep', ...r.upkeep })
  for (const t of r.timeline) out.push({ row: 'interval', ...t })
  for (const [kind, t] of Object.entries(r.traffic)) out.push({ row: 'traffic', kind, ...t })
  out.push({ row: 'errors', errors: r.errors, firstError: r.firstError })
  if (run) out.push({ row: 'run', ...run })
  return out
}

const pctf = (x: number | null, digits = 1): string => x === null ? '—' : `${(x * 100).toFixed(digits)}%`
const num = (x: number | null): string => x === null ? '—' : String(x)
const kb = (b: number): string => b >= 10_240 ? `${(b / 1024).toFixed(0)} KB` : b >= 1024 ? `${(b / 1024).toFixed(1)} KB` : `${b} B`

function table (head: string[], body: string[][], indent = '  '): string {
  const w = head.map((h, i) => Math.max(h.length, ...body.map(r => r[i].length)))
  const line = (r: string[]): string => indent + r.map((c, i) => i === 0 ? c.padEnd(w[i]) : c.padStart(w[i])).join('  ')
  return [line(head), ...body.map(line)].join('\n')
}

/** The links' latency as a run's settings give it: one, or two when a share of the nodes is slow (--slow-links). */
function latencyOf (s: SimResult['settings']): string {
  const slow = s.slowLinks ?? 0
  return slow > 0 ? `${s.latency} ms (${s.latency * 2} ms on the links of ${round(slow * 100, 1)}% of nodes)` : `${s.latency} ms`
}

export function text (r: SimResult, run?: RunInfo): string {
  const s = r.settings
  const p = r.phases
  const out: string[] = []
  out.push(`peernet sim: ${s.nodes} nodes, ${s.intervals} gossip intervals of ${s.interval} ms (virtual), seed ${s.seed}`)
  out.push(`settings: table ${s.table}, gossip sample ${s.sample}, connections ${s.connections}, link latency ${latencyOf(s)}, dial every ${s.dialInterval} ms, hops ${s.hops}, bootstrap from ${s.bootstrap} earlier nodes`)
  out.push(`phases: nodes join over intervals 0–${p.probes}; ${s.probes} probe nodes join at ${p.probes}; searches at ${p.search}; ${KILL_SHARE * 100}% killed at ${p.kill}; churn ${STEADY_CHURN * 100}%/interval from ${p.steady} to ${p.end}`)
  out.push('')
  out.push(`convergence: intervals after a new node joins until its address is known by a share of the other nodes`)
  out.push(`  ("known": ${s.known}; median and worst over ${r.convergence.probes} probes, measured until interval ${p.kill})`)
  out.push(table(['known by', 'median', 'worst', 'probes reaching it'],
    r.convergence.reach.map(c => [pctf(c.share, 0), num(c.median), num(c.max), `${c.reached}/${r.convergence.probes}`])))
  out.push(`  held in tables right now: ${pctf(r.convergence.holdsPeak, 2)} of nodes at peak, ${pctf(r.convergence.holdsAtKill, 2)} at interval ${p.kill} (one table can hold ${pctf(r.convergence.tableShare, 2)} of the nodes)`)
  out.push('')
  out.push('overlay degree (open links per node)')
  out.push(table(['at interval', 'nodes', 'mean', 'min', 'p50', 'p95', 'max', 'isolated'],
    r.degree.map(d => [String(d.interval), String(d.nodes), d.mean.toFixed(2), String(d.min), String(d.p50), String(d.p95), String(d.max), String(d.isolated)])))
  for (const d of r.degree) out.push(`  histogram at ${d.interval}: ` + d.histogram.map(([k, n]) => `${k}:${n}`).join(' '))
  out.push('')
  out.push(`search (from interval ${p.search}, from random non-members; success: answered by the ring; "flood only": answered by the fallback flood, not a success)`)
  out.push(table(['subnet', 'searches', 'success', 'flood only', 'recall', 'hops p50', 'hops p95', 'msgs/search', 'p99', 'bytes/search', '1st answer p50', 'p95 (intervals)'],
    r.search.map(x => [`${x.members} member${x.members === 1 ? '' : 's'}`, String(x.searches), pctf(x.success, 2), pctf(x.viaFlood, 2), pctf(x.recall, 0), num(x.hopsP50), num(x.hopsP95), String(x.messages), String(x.messagesP99), kb(x.bytes), num(x.firstP50), num(x.firstP95)])))
  if (r.owner !== null) {
    const w = r.owner
    out.push(`owner agreement at interval ${w.interval}: ${w.keys} keys, each asked of ${w.asked / Math.max(1, w.keys)} random nodes (getEndpointFor): ${pctf(w.agreement, 2)} name the same node, ${pctf(w.correct, 2)} the one truly responsible; ${w.answered}/${w.asked} answered, hops p50 ${num(w.hopsP50)}`)
  }
  const u = r.upkeep
  out.push(`upkeep, frames per node per interval from interval ${u.from}: ring ${u.ringMean} (settled ${u.ringSettled}, worst interval ${u.ringMax}), gossip ${u.gossipMean}, keepalive ${u.keepaliveMean}`)
  out.push('')
  const churnRow = (t: IntervalRow): string[] => [String(t.interval), String(t.live), String(t.killed), String(t.joined), String(t.components), pctf(t.largest), String(t.isolated), t.meanDegree.toFixed(2), t.success === null ? '—' : `${pctf(t.success, 1)} of ${t.searches}`, pctf(t.viaFlood, 1), String(t.ringUpkeep)]
  const head = ['interval', 'live', 'killed', 'joined', 'components', 'largest', 'isolated', 'mean degree', 'search success', 'flood only', 'ring upkeep']
  const before = r.timeline.find(t => t.interval === p.kill)
  const kill = r.timeline.filter(t => t.phase === 'kill')
  out.push(`churn: ${KILL_SHARE * 100}% of nodes killed at once at interval ${p.kill}, then the next intervals`)
  out.push(table(head, [...(before ? [churnRow(before)] : []), ...kill.map(churnRow)]))
  const steady = r.timeline.filter(t => t.phase === 'steady')
  if (steady.length > 0) {
    out.push('')
    out.push(`steady churn: ${STEADY_CHURN * 100}% of nodes killed and as many joined every interval, intervals ${p.steady}–${p.end}`)
    const every = Math.max(1, Math.ceil(steady.length / 8))
    out.push(table(head, steady.filter((_, i) => i % every === every - 1 || i === steady.length - 1).map(churnRow)))
    const ran = steady.filter(t => t.success !== null)
    const searches = ran.reduce((a, t) => a + t.searches, 0)
    const ok = ran.reduce((a, t) => a + (t.success as number) * t.searches, 0)
    out.push(`  over the phase: largest component ${pctf(Math.min(...steady.map(t => t.largest)))} at worst, mean ${pctf(mean(steady.map(t => t.largest)))}; components at most ${Math.max(...steady.map(t => t.components))}; search success ${searches ? pctf(ok / searches, 1) : '—'} of ${searches}`)
  }
  out.push('')
  const tr = Object.entries(r.traffic)
  out.push('traffic (frames / bytes sent, whole run): ' + tr.map(([k, t]) => `${k} ${t.frames} / ${kb(t.bytes)}`).join(', '))
  if (r.errors > 0) out.push(`node errors: ${r.errors} (first: ${r.firstError})`)
  if (run) out.push(`run: ${(run.wallMs / 1000).toFixed(1)} s wall, peak RSS ${run.peakRssMB} MB`)
  return out.join('\n') + '\n'
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** Share of nodes vs interval: convergence (heard of, held) and churn (largest component, search success, live). */
export function svg (r: SimResult): string {
  const W = 900; const H = 480
  const m = { l: 60, r: 200, t: 50, b: 50 }
  const pw = W - m.l - m.r; const ph = H - m.t - m.b
  const T = r.settings.intervals
  const x = (i: number): number => m.l + pw * i / T
  const y = (v: number): number => m.t + ph * (1 - v)
  const f = (n: number): string => n.toFixed(1)
  const series: Array<{ name: string, color: string, dash?: string, pts: Array<[number, number | null]> }> = [
    { name: 'probe heard of by (share of nodes)', color: '#1f77b4', pts: r.timeline.map(t => [t.interval, t.reach]) },
    { name: 'probe held in tables now', color: '#17becf', dash: '4 3', pts: r.timeline.map(t => [t.interval, t.holds]) },
    { name: 'largest component (share of live)', color: '#2ca02c', pts: r.timeline.map(t => [t.interval, t.largest]) },
    { name: 'search success', color: '#d62728', pts: r.timeline.map(t => [t.interval, t.success]) },
    { name: 'live nodes (share of --nodes)', color: '#7f7f7f', dash: '2 3', pts: r.timeline.map(t => [t.interval, Math.min(1, t.live / r.settings.nodes)]) }
  ]
  const o: string[] = []
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`)
  o.push(`<rect width="${W}" height="${H}" fill="white"/>`)
  const s = r.settings
  o.push(`<text x="${m.l}" y="22" font-size="15" font-weight="bold">${esc(`peernet sim: ${s.nodes} nodes, seed ${s.seed}`)}</text>`)
  o.push(`<text x="${m.l}" y="38" fill="#555">${esc(`table ${s.table}, gossip sample ${s.sample}, connections ${s.connections}, interval ${s.interval} ms, latency ${latencyOf(s)}`)}</text>`)
  for (let v = 0; v <= 1.0001; v += 0.25) {
    o.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#ddd"/>`)
    o.push(`<text x="${m.l - 8}" y="${f(y(v) + 4)}" text-anchor="end">${Math.round(v * 100)}%</text>`)
  }
  const tick = T <= 20 ? 2 : T <= 60 ? 5 : T <= 200 ? 10 : 50
  for (let i = 0; i <= T; i += tick) {
    o.push(`<line x1="${f(x(i))}" x2="${f(x(i))}" y1="${m.t + ph}" y2="${m.t + ph + 5}" stroke="#333"/>`)
    o.push(`<text x="${f(x(i))}" y="${m.t + ph + 18}" text-anchor="middle">${i}</text>`)
  }
  o.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`)
  o.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">gossip interval</text>`)
  o.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">share of nodes</text>`)
  const marks: Array<[number, string]> = [[r.phases.probes, 'probes join'], [r.phases.search, 'searches'], [r.phases.kill, `kill ${KILL_SHARE * 100}%`], [r.phases.steady, `churn ${STEADY_CHURN * 100}%/int`]]
  for (const [i, label] of marks) {
    if (i >= T) continue
    o.push(`<line x1="${f(x(i))}" x2="${f(x(i))}" y1="${m.t}" y2="${m.t + ph}" stroke="#999" stroke-dasharray="3 3"/>`)
    o.push(`<text x="${f(x(i) + 3)}" y="${m.t + 12}" fill="#666" font-size="10">${esc(label)}</text>`)
  }
  for (const sr of series) {
    // A line through runs of known values; single points get a dot.
    let run: string[] = []
    const flush = (): void => {
      if (run.length > 1) o.push(`<polyline fill="none" stroke="${sr.color}" stroke-width="2"${sr.dash ? ` stroke-dasharray="${sr.dash}"` : ''} points="${run.join(' ')}"/>`)
      else if (run.length === 1) { const [cx, cy] = run[0].split(','); o.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${sr.color}"/>`) }
      run = []
    }
    for (const [i, v] of sr.pts) {
      if (v === null) flush()
      else run.push(`${f(x(i))},${f(y(v))}`)
    }
    flush()
  }
  series.forEach((sr, k) => {
    const ly = m.t + 10 + k * 20
    o.push(`<line x1="${m.l + pw + 12}" x2="${m.l + pw + 36}" y1="${ly}" y2="${ly}" stroke="${sr.color}" stroke-width="2"${sr.dash ? ` stroke-dasharray="${sr.dash}"` : ''}/>`)
    o.push(`<text x="${m.l + pw + 42}" y="${ly + 4}" font-size="11">${esc(sr.name)}</text>`)
  })
  o.push('</svg>')
  return o.join('\n') + '\n'
}

/** The overlay at the end of the run as an undirected Graphviz graph; subnet members coloured. */
export function dot (r: SimResult): string {
  const colour: Record<string, string> = { s1: 'red', s10: 'orange', s100: 'gold' }
  const member = new Map<number, string>()
  for (const s of ['s100', 's10', 's1']) for (const i of r.overlay.members[s] ?? []) member.set(i, s)
  const o: string[] = ['graph peernet {', `  // ${r.settings.nodes} nodes, seed ${r.settings.seed}, interval ${r.settings.intervals}: ${r.overlay.nodes.length} live, ${r.overlay.edges.length} links`, '  node [shape=point, width=0.06];']
  for (const i of r.overlay.nodes) {
    const s = member.get(i)
    o.push(s ? `  n${i} [color=${colour[s]}, tooltip="member of ${s}"];` : `  n${i};`)
  }
  for (const [a, b] of r.overlay.edges) o.push(`  n${a} -- n${b};`)
  o.push('}')
  return o.join('\n') + '\n'
}
