import t from 'tap'
import { parseAddress, normalizeAddress, tryNormalizeAddress, sourceGroup, AddressError, MAX_ADDRESS_LENGTH } from '../lib/index.js'

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
