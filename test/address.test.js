import t from 'tap'
import { parseAddress, normalizeAddress, tryNormalizeAddress, sourceGroup, AddressError, MAX_ADDRESS_LENGTH } from '../lib/index.js'
import fc from 'fast-check'
import { notAPeer, bindHost, NETWORK_SCHEMES, SCHEMES, plainTcp4, plainMem, parseGeneral } from '../lib/transport/address.js'

/** Hosts that are no peer, and why (parsed only: nothing here is handed to a transport). */
const NO_PEER = {
  '0.0.0.0': /unspecified/,
  '0.1.2.3': /unspecified/,
  '[::]': /unspecified/,
  '[0:0:0:0:0:0:0:0]': /unspecified/,
  '[::0.0.0.0]': /unspecified/,
  '[::ffff:0.0.0.0]': /unspecified/,
  '255.255.255.255': /broadcast/,
  '240.0.0.1': /reserved/,
  '224.0.0.1': /multicast/,
  '239.255.255.250': /multicast/,
  '[ff02::1]': /multicast/,
  '[::ffff:224.0.0.1]': /multicast/
}

t.test('accepted addresses are normalised', async t => {
  t.equal(normalizeAddress('TCP://127.0.0.1:4000'), 'tcp://127.0.0.1:4000')
  t.equal(normalizeAddress('ws://LocalHost:80'), 'ws://localhost')
  t.equal(normalizeAddress('ws://127.0.0.1:8080/'), 'ws://127.0.0.1:8080')
  t.equal(normalizeAddress('ws://127.0.0.1:8080/peer'), 'ws://127.0.0.1:8080/peer')
  t.equal(normalizeAddress('wss://example.org:443'), 'wss://example.org')
  t.equal(normalizeAddress('tcp://[::1]:9'), 'tcp://[::1]:9')
  t.equal(normalizeAddress('mem://node-1'), 'mem://node-1')
  t.same(parseAddress('ws://127.0.0.1:1'), { href: 'ws://127.0.0.1:1', scheme: 'ws', host: '127.0.0.1', port: 1, path: '/' })
})

t.test('refused addresses say why', async t => {
  const bad = {
    'ws://': /missing host/,
    notaurl: /expected SCHEME/,
    'tcp://127.0.0.1:0': /out of range/,
    'tcp://127.0.0.1:70000': /out of range/,
    'tcp://127.0.0.1': /needs a port/,
    'file:///etc/passwd': /not allowed/,
    'ssh://x': /not allowed/,
    'http://127.0.0.1:80': /not allowed/,
    '-': /expected SCHEME/,
    'ls -la': /expected SCHEME/,
    'constructor://x:1': /not allowed/,
    'ws://user:pw@127.0.0.1:1': /user info/,
    'ws://127.0.0.1:1/?q=1': /malformed path/,
    'tcp://127.0.0.999:1': /IPv4/,
    'tcp://bad_host:1': /host name/,
    'mem://': /mem/,
    '': /empty/
  }
  for (const [input, why] of Object.entries(bad)) {
    t.throws(() => parseAddress(input), { name: 'AddressError', message: why }, input)
    t.equal(tryNormalizeAddress(input), null, input)
  }
  t.throws(() => parseAddress('ws://' + 'a'.repeat(MAX_ADDRESS_LENGTH)), AddressError)
  t.throws(() => parseAddress(42), /not a string/)
})

t.test('source groups', async t => {
  t.equal(sourceGroup('127.1.2.3'), 'ip4:127.1.2')
  t.equal(sourceGroup('127.1.2.200'), 'ip4:127.1.2')
  t.not(sourceGroup('127.1.3.3'), sourceGroup('127.1.2.3'))
  t.equal(sourceGroup('::ffff:127.1.2.3'), 'ip4:127.1.2')
  t.equal(sourceGroup('2001:db8:1::5'), 'ip6:2001:db8:1')
  t.equal(sourceGroup('2001:db8:1:2::9'), sourceGroup('2001:db8:1::5'))
  t.equal(sourceGroup('example.org'), 'host:example.org')
})

t.test('hosts that are no peer are refused wherever an address is stored or dialed', async t => {
  for (const [host, why] of Object.entries(NO_PEER)) {
    for (const scheme of ['tcp', 'ws']) {
      const a = `${scheme}://${host}:80`
      t.throws(() => parseAddress(a), { name: 'AddressError', message: why }, a)
      t.equal(tryNormalizeAddress(a), null, a)
    }
  }
  // The edges of each range are peers.
  for (const host of ['1.0.0.0', '223.255.255.255', '127.0.0.1', '[::1]', '[::ffff:127.0.0.1]', '[fe80::1]', '[2001:db8::1]']) {
    t.equal(notAPeer(host.replace(/^\[|\]$/g, '')), null, host)
    t.doesNotThrow(() => parseAddress(`tcp://${host}:1`), host)
  }
  // A local service bound to every interface still has a name: only `local` accepts it. (Parsed
  // only, as `listen --host 0.0.0.0` names a service: nothing here is handed to a transport.)
  for (const [host, why] of Object.entries(NO_PEER)) {
    if (!why.test('unspecified')) continue
    for (const a of [`ws://${host}:8080`, `tcp://${host}:7`]) t.equal(parseAddress(a, { local: true }).href, a, `${a}, local`)
  }
})

t.test('numbers that inet_aton would read as an IPv4 address must be dotted decimal', async t => {
  // getaddrinfo reads these as 0.0.0.0 or 127.0.0.1: written so, they would slip past the checks.
  for (const host of ['0x0', '0', '0x7f.1', '2130706433', '127.1', '0x7f000001', '1.2.3']) {
    t.throws(() => parseAddress(`tcp://${host}:1`), { name: 'AddressError', message: /IPv4/ }, host)
  }
  t.equal(normalizeAddress('tcp://127.localhost:1'), 'tcp://127.localhost:1', 'a name with a numeric label is a name')
  t.throws(() => parseAddress('tcp://[1:2]:1'), /malformed IPv6/, 'an IPv6 address must be one')
  t.throws(() => parseAddress('tcp://[:::]:1'), /malformed IPv6/)
})

t.test('a caller may narrow the schemes; the error lists exactly those', async t => {
  t.same(NETWORK_SCHEMES, ['tcp', 'ws', 'wss'])
  t.throws(() => parseAddress('mem://x', { schemes: NETWORK_SCHEMES }), { message: /scheme "mem" is not allowed \(allowed: tcp, ws, wss\)$/ })
  t.throws(() => parseAddress('x', { schemes: NETWORK_SCHEMES }), { message: /with a scheme of tcp, ws, wss$/ })
  t.equal(parseAddress('mem://x').href, 'mem://x', 'all of SCHEMES by default')
})

t.test('bindHost takes a host as URLs write it', async t => {
  t.equal(bindHost('[::1]'), '::1')
  t.equal(bindHost('::1'), '::1')
  t.equal(bindHost('127.0.0.1'), '127.0.0.1')
})

/**
 * A plain path (`fast`: an address in one regex, or null to leave it to the general parser)
 * reads every input it takes as parseGeneral does, and parseAddress answers as parseGeneral
 * whatever took it. Asserted over `runs` inputs; returns how many took the plain path.
 */
function agreesWithGeneral (fast, input, runs) {
  let plain = 0
  fc.assert(fc.property(input, a => {
    const quick = fast(a)
    let general
    try { general = parseGeneral(a, SCHEMES, {}) } catch { general = null }
    if (quick !== null) {
      plain++
      if (JSON.stringify(quick) !== JSON.stringify(general)) return false
    }
    let got
    try { got = parseAddress(a) } catch { got = null }
    return JSON.stringify(got) === JSON.stringify(general)
  }), { numRuns: runs, seed: 20261202 })
  return plain
}

t.test('the plain mem://NAME path reads an address as the general path does, or leaves it to it', async t => {
  // Names around the edges of MEM_NAME: every character it takes and some it does not, empty,
  // 64 and 65 long; the case of the scheme.
  const char = fc.constantFrom(...'aZ09._~-/:@ %é'.split(''))
  const name = fc.oneof(fc.array(char, { maxLength: 8 }).map(c => c.join('')), fc.constantFrom('a'.repeat(64), 'a'.repeat(65), 'n12', ''))
  const input = fc.tuple(fc.constantFrom('mem', 'MEM', 'Mem'), name).map(([s, n]) => `${s}://${n}`)
  const plain = agreesWithGeneral(plainMem, input, 2000)
  t.ok(plain > 50, `${plain} inputs took the plain path`)
  t.equal(plainMem('mem://n1').href, 'mem://n1')
  t.equal(plainMem('MEM://n1'), null, 'another case of the scheme: the general path normalises it')
  t.throws(() => parseAddress('mem://n1', { schemes: ['tcp'] }), /scheme "mem" is not allowed/, 'a scheme not allowed is refused, plain or not')
})

t.test('the plain tcp://IPv4:port path reads an address as the general path does, or leaves it to it', async t => {
  // Octets and ports around every edge the regexes and the peer rules draw: leading zeros,
  // 0/8, 224 (multicast), 240 (reserved), 255, port 0 and 65536; the case of the scheme.
  const octet = fc.oneof(fc.integer({ min: 0, max: 256 }).map(String), fc.constantFrom('00', '01', '099', '255', '224', '240', '239', '0'))
  const port = fc.oneof(fc.integer({ min: 0, max: 70000 }).map(String), fc.constantFrom('01', '080', '65535', '65536', ''))
  const scheme = fc.constantFrom('tcp', 'TCP', 'Tcp')
  const input = fc.tuple(scheme, fc.oneof(fc.array(octet, { minLength: 4, maxLength: 4 }), fc.array(octet, { minLength: 3, maxLength: 5 })), port).map(([s, o, p]) => `${s}://${o.join('.')}:${p}`)
  const plain = agreesWithGeneral(plainTcp4, input, 3000)
  t.ok(plain > 50, `${plain} inputs took the plain path`)
  t.equal(plainTcp4('tcp://127.0.0.1:4000').href, 'tcp://127.0.0.1:4000')
  // Not a peer, so never dialed: the point is that the fast path leaves each to the refusal.
  for (const host of Object.keys(NO_PEER).filter(h => !h.startsWith('['))) {
    t.equal(plainTcp4(`tcp://${host}:4`), null, `${host}: not a peer, left to the general path, which says why`)
  }
  // Out of range, and not in normal form (a leading zero): left to the general path too.
  t.equal(plainTcp4('tcp://127.2.3.4:65536'), null)
  t.equal(plainTcp4('tcp://127.01.0.1:1'), null)
})
