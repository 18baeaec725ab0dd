// The WebRTC transport (transport/webrtc.ts): two ends with an in-process signalling channel
// open a data channel and carry bytes both ways; two real nodes link over it (Noise end to
// end); bad signals are refused in one sentence; the deadline fails clearly; the native
// threads stop once nothing uses them, so a process exits. Loopback only (webrtc-bind
// 127.0.0.1, candidates of loopback hosts only); no ICE server anywhere.
import t from 'tap'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { fileURLToPath } from 'node:url'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  dialWebRTC, answerWebRTC, signalPair, loopbackOnly, releaseWebRTC, validateSignal, checkCandidate,
  checkSdp, parseIceServer, parseIceServers, parseBindAddress, SignalError, CandidateRefused,
  MAX_SDP_LENGTH, MAX_CANDIDATES, MAX_SIGNALS, MAX_CANDIDATE_LENGTH, MAX_MID_LENGTH, MAX_ICE_SERVERS,
  MAX_CHANNEL_MESSAGE, WEBRTC_KIND
} from '../lib/transport/webrtc.js'
import { peernet } from '../lib/index.js'
import { tempLevel, tempDir, until, once, readBytes } from './lib/helpers.js'

const LOOP = { bind: '127.0.0.1', allowHost: loopbackOnly }
const CAND = 'candidate:1 1 UDP 2114977791 127.0.0.1 50000 typ host'
const SDP = 'v=0\r\no=rtc 1 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n'

/** A pair of streams over an in-process signalling pair, destroyed at teardown. */
function pair (t, opts = LOOP) {
  const [sa, sb] = signalPair()
  const a = dialWebRTC(sa, opts)
  const b = answerWebRTC(sb, opts)
  t.teardown(() => { a.destroy(); b.destroy() })
  return { a, b, sa, sb }
}

/** A signaller whose sends go nowhere; `emit('signal', x)` plays the peer. */
function fakePeer () {
  const s = new EventEmitter()
  s.sent = []
  s.send = x => s.sent.push(x)
  return s
}

/** The error a stream ends with. */
const failure = stream => new Promise(resolve => stream.once('error', resolve))

t.test('signals: the shape of each kind, and each bound crossed', async t => {
  t.same(validateSignal({ type: 'offer', sdp: SDP }), { type: 'offer', sdp: SDP })
  t.same(validateSignal({ type: 'candidate', candidate: CAND, mid: '0' }), { type: 'candidate', candidate: CAND, mid: '0' })
  t.same(validateSignal({ type: 'end' }), { type: 'end' })
  const bad = [
    [null, /must be a JSON object/],
    [[], /must be a JSON object/],
    ['offer', /must be a JSON object/],
    [{ type: 'hello' }, /unknown signal type "hello"/],
    [{ type: 'offer' }, /offer without an sdp string/],
    [{ type: 'answer', sdp: 5 }, /answer without an sdp string/],
    [{ type: 'offer', sdp: SDP, extra: 1 }, /unknown field "extra"/],
    [{ type: 'offer', sdp: 'v=0' + 'x'.repeat(MAX_SDP_LENGTH) }, /longer than MAX_SDP_LENGTH/],
    [{ type: 'candidate', candidate: CAND }, /mid must be a short name/],
    [{ type: 'candidate', candidate: CAND, mid: 'x'.repeat(MAX_MID_LENGTH + 1) }, /MAX_MID_LENGTH/],
    [{ type: 'candidate', candidate: CAND, mid: '0 1' }, /mid must be a short name/],
    [{ type: 'candidate', candidate: 'c'.repeat(MAX_CANDIDATE_LENGTH + 1), mid: '0' }, /longer than MAX_CANDIDATE_LENGTH/],
    [{ type: 'candidate', candidate: 7, mid: '0' }, /without a candidate string/]
  ]
  for (const [x, re] of bad) t.throws(() => validateSignal(x), re, JSON.stringify(x)?.slice(0, 60))
  t.equal(validateSignal({ type: 'offer', sdp: 'v=0' + 'x'.repeat(MAX_SDP_LENGTH - 3) }).sdp.length, MAX_SDP_LENGTH, 'an sdp of MAX_SDP_LENGTH is taken')
})

t.test('candidates: the dial policy and the caller\'s, in one sentence each', async t => {
  const c = checkCandidate('a=' + CAND + ' generation 0', loopbackOnly)
  t.same([c.host, c.port, c.type, c.line.startsWith('candidate:')], ['127.0.0.1', 50000, 'host', true], 'read, without a=')
  t.equal(checkCandidate('candidate:2 1 udp 1 ::1 9 typ relay raddr ::1 rport 9', loopbackOnly).host, '::1', 'IPv6')
  const malformed = [
    ['candidate:1 1 UDP 2114977791 127.0.0.1 50000', /malformed candidate/],
    ['garbage', /malformed candidate/],
    ['candidate:1 1 UDP 2114977791 127.0.0.1 50000 typ\u0000 host', /malformed candidate/],
    ['candidate:1 3 UDP 1 127.0.0.1 50000 typ host', /component/],
    ['candidate:1 1 TCP 1 127.0.0.1 50000 typ host tcptype active', /not UDP/],
    ['candidate:1 1 UDP x 127.0.0.1 50000 typ host', /priority/],
    ['candidate:1 1 UDP 1 127.0.0.1 50000 typ nat', /type must be one of/],
    ['candidate:1 1 UDP 1 127.0.0.1 0 typ host', /out of range/],
    ['candidate:1 1 UDP 1 127.0.0.1 70000 typ host', /out of range/]
  ]
  for (const [line, re] of malformed) {
    const err = t.throws(() => checkCandidate(line, loopbackOnly), re, line)
    t.notOk(err instanceof CandidateRefused, 'a fault, not a mere refusal')
  }
  const refused = [
    ['candidate:1 1 UDP 1 0.0.0.0 9 typ host', /unspecified address/],
    ['candidate:1 1 UDP 1 224.0.0.1 9 typ host', /multicast/],
    ['candidate:1 1 UDP 1 255.255.255.255 9 typ host', /broadcast/],
    ['candidate:1 1 UDP 1 2b8f1a4c-8e0c.local 9 typ host', /not an IP address.*mDNS/],
    ['candidate:1 1 UDP 1 127.0.0.2 9 typ host', /127\.0\.0\.2 is not allowed here/, h => h === '127.0.0.1']
  ]
  for (const [line, re, allow] of refused) {
    const err = t.throws(() => checkCandidate(line, allow ?? loopbackOnly), re, line)
    t.ok(err instanceof CandidateRefused && err instanceof SignalError, 'refused')
  }
})

t.test('an sdp: its candidates held to the same rules, refused ones taken out, at most MAX_CANDIDATES', async t => {
  const sdp = SDP + 'a=' + CAND + '\r\na=candidate:2 1 UDP 1 224.0.0.9 9 typ host\r\n'
  const r = checkSdp(sdp, loopbackOnly)
  t.equal(r.candidates.length, 1)
  t.match(r.refused, [/multicast/])
  t.notMatch(r.sdp, /224\.0\.0\.9/, 'the refused candidate is out of the sdp')
  t.match(r.sdp, /127\.0\.0\.1 50000/)
  t.throws(() => checkSdp(SDP + 'a=candidate:1 1 UDP 1 127.0.0.1\r\n'), /malformed candidate/)
  t.throws(() => checkSdp('x' + SDP), /does not start with v=0/)
  t.throws(() => checkSdp(SDP + 'a=x:\u00e9\r\n'), /printable ASCII/)
  const many = SDP + Array.from({ length: MAX_CANDIDATES + 1 }, (_, i) => `a=candidate:${i} 1 UDP 1 127.0.0.1 ${1000 + i} typ host\r\n`).join('')
  t.throws(() => checkSdp(many), /more than MAX_CANDIDATES/)
  t.equal(checkSdp(SDP + Array.from({ length: MAX_CANDIDATES }, (_, i) => `a=candidate:${i} 1 UDP 1 127.0.0.1 ${1000 + i} typ host\r\n`).join('')).candidates.length, MAX_CANDIDATES, 'MAX_CANDIDATES are taken')
})

t.test('settings: ice servers and the bind address', async t => {
  t.same(parseIceServer('stun:127.0.0.1'), { urls: 'stun:127.0.0.1:3478' })
  t.same(parseIceServer('stun:[::1]:3479'), { urls: 'stun:[::1]:3479' })
  t.same(parseIceServer('turn:u:p@127.0.0.1:3478'), { urls: 'turn:127.0.0.1:3478', username: 'u', credential: 'p' })
  t.same(parseIceServer('turns:u:p@localhost'), { urls: 'turns:localhost:5349', username: 'u', credential: 'p' })
  t.throws(() => parseIceServer('http://127.0.0.1'), /expected stun:HOST\[:PORT\] or turn:USER:PASS@HOST\[:PORT\]/)
  t.throws(() => parseIceServer('turn:127.0.0.1'), /needs USER:PASS@/)
  t.throws(() => parseIceServer('stun:u:p@127.0.0.1'), /takes no user name/)
  t.throws(() => parseIceServer('stun:0.0.0.0'), /unspecified/)
  t.throws(() => parseIceServer('stun:127.0.0.1:99999'), /out of range/)
  t.throws(() => parseIceServers(Array(MAX_ICE_SERVERS + 1).fill('stun:127.0.0.1')), /MAX_ICE_SERVERS/)
  t.equal(parseIceServers(Array(MAX_ICE_SERVERS).fill('stun:127.0.0.1')).length, MAX_ICE_SERVERS)
  t.equal(parseBindAddress('127.0.0.1'), '127.0.0.1')
  t.equal(parseBindAddress('[::1]'), '::1')
  t.throws(() => parseBindAddress('localhost'), /give an IP address/)
})

t.test('two ends open a data channel and carry bytes both ways; each end closes the other', async t => {
  const { a, b, sa, sb } = pair(t)
  // Who sent what, in order: the dialer's candidates wait for the answer (WebRTCStream.held).
  const order = []
  for (const [who, s] of [['a', sa], ['b', sb]]) {
    const send = s.send
    s.send = x => { order.push(`${who}:${x.type}`); send(x) }
  }
  t.equal(a.kind, WEBRTC_KIND)
  a.write('before the channel opens') // waits for it
  await Promise.all([once(a, 'connect'), once(b, 'connect')])
  t.equal(a.remoteHost, '127.0.0.1', 'the host ICE reached')
  t.equal(order[0], 'a:offer', 'the offer first')
  t.ok(order.indexOf('b:answer') < order.indexOf('a:candidate'), `the dialer's candidates after the answer: ${order.join(' ')}`)
  t.equal((await readBytes(b, 24)).toString(), 'before the channel opens')
  // More than a channel message and its high water mark: cut, queued, put back together in order.
  const big = randomBytes(3 * 1024 * 1024 + 7)
  const got = readBytes(a, big.length)
  b.write(big)
  t.ok((await got).equals(big), `${big.length} bytes b→a, in pieces of MAX_CHANNEL_MESSAGE (${MAX_CHANNEL_MESSAGE})`)
  const back = randomBytes(100_000)
  const got2 = readBytes(b, back.length)
  a.write(back)
  t.ok((await got2).equals(back), 'and a→b')
  // Ending one end ends the other: its reader sees the end, and both close.
  const ended = once(b, 'end')
  a.end()
  b.resume()
  await ended
  await Promise.all([a.closed ? null : once(a, 'close'), b.closed ? null : once(b, 'close')])
  t.pass('both closed')
})

t.test('destroying one end closes the other', async t => {
  const { a, b } = pair(t)
  await Promise.all([once(a, 'connect'), once(b, 'connect')])
  const closed = once(a, 'close')
  a.resume()
  b.destroy()
  await closed
  t.pass('a closed after b was destroyed')
})

t.test('two real nodes link over WebRTC: the Noise handshake runs end to end, both list the other', async t => {
  const [sa, sb] = signalPair()
  let dialed = null
  // A dials "mem://webrtc-b" through a transport that opens WebRTC there, as a dial of any other
  // transport: its stream goes to the node's dialer, as a tcp socket would.
  const a = peernet(tempLevel(t), {
    interval: 0, bootstrap: false, purge: 0,
    transport: address => {
      if (address !== 'mem://webrtc-b') throw new Error(`unexpected dial of ${address}`)
      dialed = dialWebRTC(sa, LOOP)
      return dialed
    }
  })
  const b = peernet(tempLevel(t), { interval: 0, bootstrap: false, purge: 0, transport: () => { throw new Error('b dials nothing') } })
  t.teardown(async () => { await a.close(); await b.close() })
  await Promise.all([a.ready, b.ready])
  const answer = answerWebRTC(sb, LOOP)
  b.accept(answer, { host: '127.0.0.1' })
  await a.connect(`${b.id}@mem://webrtc-b`)
  t.equal(dialed.kind, 'webrtc')
  await until(() => b.peerList().length === 1, { what: 'b to list a' })
  t.same(a.peerList().map(p => [p.id, p.direction]), [[b.id, 'out']], 'a: b, dialed')
  t.same(b.peerList().map(p => [p.id, p.direction]), [[a.id, 'in']], 'b: a, accepted')
  await a.disconnect(b.id)
  await until(() => b.peerList().length === 0, { what: 'b to see the link go' })
  // The link's end on a closes its stream as the close runs through the secure layer: not
  // necessarily before b has seen the link go.
  await until(() => dialed.destroyed || dialed.closed || !dialed.readable, { what: 'the WebRTC stream to end with the link' })
  t.pass('the WebRTC stream ended with the link')
})

t.test('a bad signal ends the attempt with its reason; the process goes on', async t => {
  const cases = [
    [{ type: 'answer', sdp: 'v=0' + 'x'.repeat(MAX_SDP_LENGTH) }, /bad webrtc signal: sdp of \d+ characters is longer than MAX_SDP_LENGTH/],
    [{ type: 'candidate', candidate: 'candidate:1 1 UDP 1 127.0.0.1', mid: '0' }, /bad webrtc signal: malformed candidate/],
    [{ type: 'offer', sdp: SDP }, /bad webrtc signal: an offer where the dialing side expects an answer/],
    ['{"type":"answer"}', /bad webrtc signal: a signal must be a JSON object/],
    [{ type: 'answer', sdp: 'v=0\r\nthis is no sdp' }, /bad webrtc signal: the peer's answer was not taken/]
  ]
  for (const [signal, re] of cases) {
    const peer = fakePeer()
    const s = dialWebRTC(peer, LOOP)
    t.teardown(() => s.destroy())
    await until(() => peer.sent.some(x => x.type === 'offer'), { what: 'the offer' })
    const err = failure(s)
    peer.emit('signal', signal)
    t.match((await err).message, re, String(re))
    t.equal(peer.listenerCount('signal'), 0, 'no longer listening')
  }
})

t.test('a flood of signals or candidates ends the attempt', async t => {
  const peer = fakePeer()
  const s = answerWebRTC(peer, LOOP)
  t.teardown(() => s.destroy())
  const err = failure(s)
  for (let i = 0; i <= MAX_CANDIDATES; i++) peer.emit('signal', { type: 'candidate', candidate: `candidate:${i} 1 UDP 1 224.0.0.1 ${1000 + i} typ host`, mid: '0' })
  t.match((await err).message, /more than MAX_CANDIDATES \(32\) candidates in one attempt/, 'refused candidates count too')
  const peer2 = fakePeer()
  const s2 = answerWebRTC(peer2, LOOP)
  t.teardown(() => s2.destroy())
  const err2 = failure(s2)
  for (let i = 0; i <= MAX_SIGNALS; i++) peer2.emit('signal', { type: 'end' })
  t.match((await err2).message, /more than MAX_SIGNALS/)
})

t.test('candidates the policy refuses are left out, and the deadline says so', async t => {
  const peer = fakePeer()
  const s = answerWebRTC(peer, { ...LOOP, allowHost: h => h === '127.0.0.1', timeout: 300 })
  t.teardown(() => s.destroy())
  const err = failure(s)
  peer.emit('signal', { type: 'candidate', candidate: 'candidate:1 1 UDP 1 127.0.0.2 9 typ host', mid: '0' })
  peer.emit('signal', { type: 'candidate', candidate: 'candidate:2 1 UDP 1 224.0.0.1 9 typ host', mid: '0' })
  const e = await err
  t.match(e.message, /did not open within WEBRTC_TIMEOUT \(300 ms; ICE \w+, 2 signals heard; 2 candidates refused, the last: .*224\.0\.0\.1 is a multicast address/)
  t.equal(e.code, 'ETIMEDOUT')
})

t.test('the deadline: a signalling channel that drops everything fails clearly, both ends', async t => {
  const drop = () => Object.assign(new EventEmitter(), { send () {} })
  const a = dialWebRTC(drop(), { ...LOOP, timeout: 200 })
  const b = answerWebRTC(drop(), { ...LOOP, timeout: 200 })
  t.teardown(() => { a.destroy(); b.destroy() })
  const [ea, eb] = await Promise.all([failure(a), failure(b)])
  t.match(ea.message, /^webrtc: the data channel did not open within WEBRTC_TIMEOUT \(200 ms; ICE \w+, 0 signals heard\)$/)
  t.match(eb.message, /^webrtc: the data channel did not open within WEBRTC_TIMEOUT \(200 ms; ICE \w+, 0 signals heard\)$/)
  await Promise.all([a.closed ? null : once(a, 'close'), b.closed ? null : once(b, 'close')])
})

t.test('a signalling channel that throws on send fails the attempt', async t => {
  const s = dialWebRTC(Object.assign(new EventEmitter(), { send () { throw new Error('relay gone') } }), LOOP)
  t.teardown(() => s.destroy())
  t.match((await failure(s)).message, 'webrtc: the signalling channel failed: relay gone')
})

t.test('a data channel of another label is refused; a second one too', async t => {
  // Our answerer takes only CHANNEL_LABEL: a stand-in RTCPeerConnection hands it others.
  const channels = []
  class FakePC extends EventTarget {
    iceConnectionState = 'new'
    connectionState = 'new'
    createDataChannel () { throw new Error('not here') }
    close () {}
  }
  let pc
  const wrtc = { RTCPeerConnection: class extends FakePC { constructor () { super(); pc = this } } }
  const s = answerWebRTC(fakePeer(), { wrtc, timeout: 100 })
  s.on('error', () => {})
  const channel = label => {
    const ch = Object.assign(new EventTarget(), { label, readyState: 'connecting', closed: false, close () { this.closed = true } })
    channels.push(ch)
    const e = new Event('datachannel')
    e.channel = ch
    pc.dispatchEvent(e)
    return ch
  }
  t.ok(channel('other').closed, 'another label: closed')
  t.notOk(channel('peernet').closed, 'ours: taken')
  t.ok(channel('peernet').closed, 'a second one: closed')
  await once(s, 'close')
})

t.test('a connection that fails (or closes) before its channel opens fails the stream, with the state it was in', async t => {
  for (const state of ['failed', 'closed']) {
    let pc
    const wrtc = {
      RTCPeerConnection: class extends EventTarget {
        iceConnectionState = 'checking'
        connectionState = 'connecting'
        constructor () { super(); pc = this }
        close () {}
      }
    }
    const s = answerWebRTC(fakePeer(), { wrtc })
    const err = failure(s)
    pc.connectionState = state
    pc.dispatchEvent(new Event('connectionstatechange'))
    t.match((await err).message, /^webrtc: the connection failed before its data channel opened \(ICE checking, 0 signals heard\)$/, state)
  }
})

/** Run a script in a child node process; resolves to its exit code and output. */
function child (t, script, args = []) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...args, '--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] })
    t.teardown(() => { if (p.exitCode === null) p.kill('SIGKILL') })
    let out = ''
    p.stdout.on('data', d => { out += d })
    p.stderr.on('data', d => { out += d })
    p.on('error', reject)
    p.on('exit', code => resolve({ code, out }))
  })
}

const OPEN_PAIR = `
  import { dialWebRTC, answerWebRTC, signalPair, loopbackOnly, releaseWebRTC } from './lib/transport/webrtc.js'
  const [sa, sb] = signalPair()
  const o = { bind: '127.0.0.1', allowHost: loopbackOnly }
  const a = dialWebRTC(sa, o), b = answerWebRTC(sb, o)
  await Promise.all([new Promise(r => a.once('connect', r)), new Promise(r => b.once('connect', r))])
  b.once('data', d => b.write(d))
  a.write('ping')
  const back = await new Promise(r => a.once('data', r))
  console.log('echo ' + back)
`

t.test('once its streams have ended, a process exits by itself (each closes its connection)', async t => {
  const r = await child(t, OPEN_PAIR + 'a.end(); b.resume()')
  t.equal(r.code, 0, r.out)
  t.match(r.out, 'echo ping')
})

t.test('releaseWebRTC closes what is open and lets the process exit', async t => {
  const r = await child(t, OPEN_PAIR + `
    const closed = Promise.all([new Promise(r => a.once('close', r)), new Promise(r => b.once('close', r))])
    await releaseWebRTC()
    await closed
    console.log('released')
  `)
  t.equal(r.code, 0, r.out)
  t.match(r.out, /echo ping\nreleased/)
})

t.test('without node-datachannel: "webrtc unavailable", and the library loads and runs all the same', async t => {
  // A preload that makes node-datachannel impossible to resolve, as when the optional
  // dependency was not installed (npm --omit=optional, or no prebuilt binary for the platform).
  const preload = join(tempDir(t), 'hide.cjs')
  writeFileSync(preload, `const M = require('node:module'); const r = M._resolveFilename; M._resolveFilename = function (req, ...a) { if (String(req).startsWith('node-datachannel')) { const e = new Error("Cannot find module '" + req + "'"); e.code = 'MODULE_NOT_FOUND'; throw e } return r.call(this, req, ...a) }`)
  const r = await child(t, `
    import { peernet } from './lib/index.js'
    import { dialWebRTC, webrtcUnavailable, signalPair, releaseWebRTC } from './lib/transport/webrtc.js'
    console.log(webrtcUnavailable())
    const s = dialWebRTC(signalPair()[0])
    s.on('error', err => console.log('error: ' + err.message))
    await new Promise(r => s.once('close', r))
    await releaseWebRTC()
    console.log(typeof peernet)
  `, ['--require', preload])
  t.equal(r.code, 0, r.out)
  t.match(r.out, /^webrtc unavailable: the optional dependency node-datachannel is not installed \(npm install node-datachannel\)\nerror: webrtc unavailable: the optional dependency node-datachannel is not installed/)
  t.match(r.out, /function\n$/)
})

t.test('loading peernet or the WebRTC module loads no native WebRTC code', async t => {
  const r = await child(t, `
    import { createRequire } from 'node:module'
    await import('./lib/index.js')
    await import('./lib/transport/webrtc.js')
    const require = createRequire(import.meta.url)
    console.log(Object.keys(require.cache).filter(k => k.includes('datachannel')).length)
  `)
  t.equal(r.code, 0, r.out)
  t.equal(r.out.trim(), '0')
})

t.teardown(() => releaseWebRTC())
