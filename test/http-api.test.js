// The local HTTP API (issue 14) of a real daemon (bin/peernet --http): POST /peer-up answers as
// peer-up does, GET /status and GET /metrics; and every guard: Host, Content-Type, body size,
// method, path, concurrent requests, no CORS headers; a non-loopback --http is refused without
// --http-public.
import t from 'tap'
import { request } from 'node:http'
import { connect } from 'node:net'
import { datadir, oneLine, QUIET } from './lib/cli.js'
import { until } from './lib/helpers.js'
import { MAX_HTTP_BODY, MAX_HTTP_REQUESTS, MAX_PEER_UP, parseHttpListen, isLoopback, peerUpRequest } from '../lib/daemon/http.js'
import { reasonKind, startMetrics, MAX_DROP_REASONS } from '../lib/daemon/metrics.js'
import { EventEmitter } from 'node:events'
import { SearchStats } from '../lib/daemon/search-stats.js'
import { Traffic } from '../lib/node/traffic.js'

/** One request; resolves {status, headers, body}. */
function http (port, { method = 'GET', path = '/', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', d => { text += d })
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}
const json = r => JSON.parse(r.body)
const post = (port, body, headers = {}) => http(port, { method: 'POST', path: '/peer-up', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })

/**
 * Prometheus' text format, read strictly: every line a HELP, a TYPE (before its samples, one per
 * family) or a sample `name{label="value",…} number`; anything else throws. Returns samples by
 * `name{labels}` and the families' types.
 */
function parseMetrics (text) {
  const types = new Map()
  const samples = new Map()
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
  const SAMPLE = new RegExp(`^(${NAME})(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"(?:,|(?=\\})))*\\})? (-?(?:\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?|\\+Inf|-Inf|NaN))$`)
  for (const line of text.split('\n')) {
    if (line === '') continue
    let m = new RegExp(`^# HELP (${NAME}) .+$`).exec(line)
    if (m) continue
    m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line)
    if (m) {
      if (types.has(m[1])) throw new Error(`TYPE of ${m[1]} twice`)
      types.set(m[1], m[2])
      continue
    }
    m = SAMPLE.exec(line)
    if (m === null) throw new Error(`not a metrics line: ${JSON.stringify(line)}`)
    const family = m[1].replace(/_(bucket|sum|count)$/, '')
    if (!types.has(m[1]) && !types.has(family)) throw new Error(`a sample of ${m[1]} before its TYPE`)
    samples.set(m[1] + (m[2] ?? ''), Number(m[3]))
  }
  return { types, samples }
}

/** A daemon with the API on a free loopback port; resolves the port, from its log. */
async function withApi (t, ...more) {
  const d = datadir(t)
  await d.start(...QUIET, '--http', '127.0.0.1:0', ...more)
  let port = null
  await until(async () => {
    const m = /http address=http:\/\/127\.0\.0\.1:(\d+)/.exec((await d.run(['log', '--no-follow', '-n', '50'])).stdout)
    port = m === null ? null : Number(m[1])
    return port !== null
  }, { ms: 10_000, every: 100, what: 'the API to listen' })
  return { d, port }
}

t.test('POST /peer-up answers as peer-up does; /status and /metrics', async t => {
  const { d, port } = await withApi(t)
  await d.run(['offer', 'stun', 'stun:127.0.0.1:3478'])
  const r = await post(port, { service: 'stun', max: '1' })
  t.equal(r.status, 200)
  t.same(json(r), { service: 'stun', max: '1', services: [{ name: 'stun', version: '*', url: 'stun:127.0.0.1:3478' }], count: 1 }, 'the request\'s fields, services and count')
  t.same(json(await post(port, { service: 'turn', max: 5 })), { service: 'turn', max: 5, services: [], count: 0 }, 'none offered: count 0')
  t.notOk(Object.keys(r.headers).some(h => h.startsWith('access-control-')), 'no CORS header')
  t.equal(r.headers['cache-control'], 'no-store')

  const s = await http(port, { path: '/status' })
  t.equal(s.status, 200)
  const status = json(s)
  t.equal(status.id, (await d.run(['id'])).stdout.trim(), 'status: the node\'s id')
  t.equal(status.ring, 'lonely')
  for (const k of ['pid', 'datadir', 'socket', 'warnings']) t.notOk(k in status, `status over HTTP leaves out ${k}`)

  // A peer, so the figures are not all zero; then the metrics against status --json.
  const peer = datadir(t)
  await peer.start(...QUIET)
  const url = (await peer.run(['listen', 'tcp'])).stdout.trim()
  t.equal((await d.run(['connect', url])).code, 0)
  const m = await http(port, { path: '/metrics' })
  t.equal(m.status, 200)
  t.match(m.headers['content-type'], /^text\/plain/)
  const { types, samples } = parseMetrics(m.body)
  const st = JSON.parse((await d.run(['status', '--json'])).stdout)
  t.equal(types.get('peernet_connections'), 'gauge')
  t.equal(samples.get('peernet_connections{direction="out"}') + samples.get('peernet_connections{direction="in"}'), st.connections, 'connections: as status says')
  t.equal(samples.get('peernet_known_addresses'), st.known, 'known: as status says')
  t.equal(samples.get('peernet_saved_addresses'), st.saved, 'saved: as status says')
  t.equal(types.get('peernet_messages_total'), 'counter')
  t.ok(samples.get('peernet_messages_total{direction="out",type="hello"}') >= 1, 'a hello sent, counted by type')
  t.ok(samples.get('peernet_message_bytes_total{direction="in",type="hello"}') > 0, 'and its bytes')
  t.equal(types.get('peernet_search_first_row_seconds'), 'histogram')
  t.match(m.body, /^peernet_offers 1$/m)
  t.same(['lonely', 'unbalanced', 'joined'].map(state => samples.get(`peernet_ring_state{state="${state}"}`)).sort(), [0, 0, 1], 'ring state: one of the three')
  await d.run(['find', 'stun'])
  t.match((await http(port, { path: '/metrics' })).body, /^peernet_searches_total\{kind="find",outcome="answered"\} 1$/m, 'a find counted')
  t.equal((await http(port, { method: 'HEAD', path: '/status' })).body, '', 'HEAD: headers only')
})

t.test('every guard: Host, method, path, content type, JSON, fields, body size, concurrency', async t => {
  const { port } = await withApi(t)
  const err = async (p, status, re, what) => {
    const r = await p
    t.equal(r.status, status, what)
    t.match(json(r).error, re, `${what}: the error says why`)
    return r
  }
  await err(http(port, { path: '/status', headers: { host: `rebound.example:${port}` } }), 421, /Host "rebound\.example/, 'a foreign Host (DNS rebinding)')
  t.equal((await http(port, { path: '/status', headers: { host: `localhost:${port}` } })).status, 200, 'localhost is this API')
  const m = await err(http(port, { method: 'PUT', path: '/status' }), 405, /takes GET/, 'a wrong method')
  t.equal(m.headers.allow, 'GET, HEAD')
  await err(http(port, { method: 'GET', path: '/peer-up' }), 405, /takes POST/, 'GET of /peer-up')
  await err(http(port, { path: '/nope' }), 404, /no such endpoint/, 'an unknown path')
  await err(post(port, { service: 'stun' }, { 'content-type': 'text/plain' }), 415, /application\/json/, 'a form-like content type')
  await err(post(port, '{"service":'), 400, /not valid JSON/, 'bad JSON')
  await err(post(port, '[1]'), 400, /JSON object/, 'not an object')
  await err(post(port, { service: 'Bad Name' }), 400, /service name/, 'a bad service name')
  await err(post(port, { service: 'stun', max: String(MAX_PEER_UP + 1) }), 400, /max must be/, 'max past MAX_PEER_UP')
  await err(post(port, { service: 'stun', max: '0' }), 400, /max must be/, 'max 0')
  t.equal((await post(port, { service: 'stun', max: String(MAX_PEER_UP) })).status, 200, 'max at MAX_PEER_UP')
  await err(post(port, JSON.stringify({ service: 'stun', pad: 'x'.repeat(MAX_HTTP_BODY) })), 413, /MAX_HTTP_BODY/, 'a body over MAX_HTTP_BODY')
  t.equal((await post(port, JSON.stringify({ service: 'stun', pad: 'x'.repeat(MAX_HTTP_BODY - 40) }))).status, 200, 'a body just under it')

  // MAX_HTTP_REQUESTS held open (each waits for a body that never comes); one more gets 503.
  const held = []
  for (let i = 0; i < MAX_HTTP_REQUESTS; i++) {
    const s = connect(port, '127.0.0.1')
    s.on('error', () => {})
    s.write(`POST /peer-up HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`)
    held.push(s)
  }
  t.teardown(() => { for (const s of held) s.destroy() })
  let busy = null
  await until(async () => { busy = await http(port, { path: '/status' }); return busy.status === 503 }, { ms: 10_000, every: 50, what: 'the API to be full' })
  await err(Promise.resolve(busy), 503, /MAX_HTTP_REQUESTS/, 'one past MAX_HTTP_REQUESTS')
  for (const s of held) s.destroy()
  await until(async () => (await http(port, { path: '/status' })).status === 200, { ms: 10_000, every: 50, what: 'room again' })
  t.pass('served again once they went')
})

t.test('--http on an address that is not loopback needs --http-public; --http-public takes any Host', async t => {
  const d = datadir(t)
  oneLine(t, await d.run(['daemon', ...QUIET, '--http', '0.0.0.0:0']), 1, /not a loopback address.*--http-public/, 'refused without --http-public')
  oneLine(t, await d.run(['daemon', ...QUIET, '--http', 'nonsense']), 1, /give \[HOST:\]PORT/, 'a bad --http')
  const { port } = await withApi(t, '--http-public')
  t.equal((await http(port, { path: '/status', headers: { host: 'any.example' } })).status, 200, '--http-public: any Host')
})

t.test('the pure parts: parseHttpListen, isLoopback, peerUpRequest, reasonKind', async t => {
  t.same(parseHttpListen('8080'), { host: '127.0.0.1', port: 8080 })
  t.same(parseHttpListen('127.0.0.2:0'), { host: '127.0.0.2', port: 0 })
  t.same(parseHttpListen('[::1]:9'), { host: '::1', port: 9 })
  t.throws(() => parseHttpListen('65536'), /\[HOST:\]PORT/)
  t.throws(() => parseHttpListen('host:'), /\[HOST:\]PORT/)
  t.ok(isLoopback('127.1.2.3') && isLoopback('::1') && isLoopback('localhost'))
  t.notOk(isLoopback('0.0.0.0') || isLoopback('::') || isLoopback('128.0.0.1'))
  t.same(peerUpRequest({ service: 'stun' }), { service: 'stun', max: 1 }, 'max defaults to 1')
  t.same(peerUpRequest({ service: 'stun', max: 3 }), { service: 'stun', max: 3 })
  t.throws(() => peerUpRequest({ service: 'stun', max: '1.5' }), /max/)
  t.equal(reasonKind('flooding: more than 200 messages/s'), 'flooding')
  t.equal(reasonKind('protocol violation: frame is not valid JSON'), 'protocol violation')
  t.equal(reasonKind(''), 'unknown')
})

t.test(`drops by reason: at most MAX_DROP_REASONS (${MAX_DROP_REASONS}) kinds, the rest as other`, async t => {
  // A stand-in for the node: what the metrics read of it, and its events.
  const node = Object.assign(new EventEmitter(), {
    status: () => ({ inbound: 0, outbound: 0, known: 0, saved: 0 }),
    offers: () => [],
    ringStatus: () => 'lonely',
    traffic: () => new Traffic()
  })
  const m = await startMetrics(node, new SearchStats())
  t.teardown(() => m.close())
  for (let i = 0; i < MAX_DROP_REASONS + 5; i++) node.emit('event', { type: 'disconnect', reason: `reason${i}: words a peer chose` })
  node.emit('event', { type: 'refused', reason: 'reason0: again' })
  node.emit('event', { type: 'connect', reason: 'not a drop' })
  const drops = (await m.text()).split('\n').filter(l => l.startsWith('peernet_drops_total{'))
  t.equal(drops.length, MAX_DROP_REASONS + 2, 'MAX_DROP_REASONS kinds of disconnect, other, and the refusal')
  t.ok(drops.includes('peernet_drops_total{event="disconnect",reason="other"} 5'), 'the kinds past the bound count as other')
  t.ok(drops.includes('peernet_drops_total{event="refused",reason="reason0"} 1'), 'a known kind under another event')
})
