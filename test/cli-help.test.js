// Usage errors that say what is wrong and what is allowed, and help that lists only what a
// command takes: the real bin/peernet, with a daemon only where a valid line must go through.
import t from 'tap'
import { datadir } from './lib/cli.js'
import { MAX_SUBNET_LENGTH } from '../lib/wire/messages.js'

const lines = s => s.split('\n').filter(Boolean)
const json = r => JSON.parse(r.stdout)

t.test('addresses that are no peer, and mem://, are refused naming only what is allowed', async t => {
  const d = datadir(t)
  // Which hosts are no peer (unspecified, broadcast, multicast…) is address.test.js's table, the
  // check the CLI calls; here, that what it refuses is a usage error. Loopback hosts only: no
  // test names another address as one to dial.
  for (const [cmd, a, why] of [['connect', 'tcp://127.0.0.1:0', /port 0 is out of range/], ['add', 'ws://127.0.0.1:65536', /port 65536 is out of range/], ['connect', 'tcp://127.01.0.1:1', /malformed IPv4/]]) {
    const r = await d.run([cmd, a])
    t.equal(r.code, 2, `${cmd} ${a}`)
    t.match(r.stderr, new RegExp('^peernet: invalid address .*' + why.source), r.stderr)
  }
  const mem = await d.run(['connect', 'mem://x'])
  t.equal(mem.code, 2)
  t.match(mem.stderr, /allowed: tcp, ws, wss\)/)
  const http = await d.run(['add', 'http://127.0.0.1:1'])
  t.notMatch(http.stderr, /mem/, 'the list of allowed schemes is what the CLI allows')
  t.notOk(d.pidOf(), 'no daemon was started')
})

t.test('subnet names: no white space at the ends, no invisible characters, at most MAX_SUBNET_LENGTH bytes', async t => {
  const d = datadir(t)
  // Every kind of character is in wire.test.js; here, that the CLI refuses them as usage errors.
  for (const [cmd, name] of [['join', ' chat'], ['search', 'chat\u00a0'], ['join', 'ch\u200bat'], ['part', '\u202egnp.exe']]) {
    const r = await d.run([cmd, name])
    t.equal(r.code, 2, `${cmd} ${JSON.stringify(name)}: ${r.stderr}`)
    t.equal(lines(r.stderr).length, 1)
  }
  const long = await d.run(['join', 'é'.repeat(MAX_SUBNET_LENGTH / 2 + 1)])
  t.match(long.stderr, new RegExp(`at most ${MAX_SUBNET_LENGTH} bytes of UTF-8`), 'the limit says its unit')
  t.notOk(d.pidOf(), 'refused before any daemon was started')
  await d.start('--connections', '0', '--interval', '0')
  const ok = ['é'.repeat(MAX_SUBNET_LENGTH / 2), 'a'.repeat(MAX_SUBNET_LENGTH), 'my chat', 'чат']
  const r = await d.run(['join', '--json', ...ok])
  t.same([r.code, json(r).joined], [0, ok], 'inner spaces, other scripts and exactly MAX_SUBNET_LENGTH bytes are fine')
  t.match((await d.run(['join', '--help'])).stdout, new RegExp(`at most ${MAX_SUBNET_LENGTH} bytes of UTF-8`), '--help says the unit')
})

t.test('help lists what a command takes, and a typo gets a suggestion', async t => {
  const d = datadir(t)
  for (const cmd of ['status', 'close', 'log']) {
    const r = await d.run([cmd, '--help'])
    t.equal(r.code, 0)
    t.notMatch(r.stdout, /--autostart/, `${cmd} never starts a daemon: no --autostart in its help`)
  }
  t.match((await d.run(['known', '--help'])).stdout, /--autostart/, 'known does')
  for (const cmd of ['add', 'rm', 'join', 'part']) {
    const r = await d.run([cmd, '--help'])
    t.match(r.stdout, /\[required\]/, cmd)
    t.notMatch(r.stdout, /default: \[\]/, `${cmd}: a required argument has no default`)
  }
  t.notMatch((await d.run(['server', '--help'])).stdout, /--json/, 'server --help has no --json')
  for (const flag of ['--help', '-h']) {
    const r = await d.run(['completion', flag])
    t.same([r.code, r.stderr], [0, ''])
    t.match(r.stdout, /^peernet completion\n\nPrint a bash\/zsh completion script/, `completion ${flag} is its help`)
    t.notMatch(r.stdout, /complete -o|compdef/, `completion ${flag} is not the script`)
  }
  t.match((await d.run(['completion'])).stdout, /complete -o|compdef/, 'completion alone prints the script')
  for (const [typo, want] of [['conect', 'connect'], ['subnet', 'subnets']]) {
    const r = await d.run([typo])
    t.equal(r.code, 2)
    t.match(r.stderr, `unknown command "${typo}" (did you mean "${want}"`, typo)
  }
  t.notMatch((await d.run(['xyzzy'])).stderr, /did you mean/, 'no suggestion for a word near nothing')
  t.notOk(d.pidOf(), 'no daemon was started')
})

t.test('server --json is a usage error, not a silent no-op', async t => {
  const d = datadir(t)
  const r = await d.run(['server', '--json'])
  t.equal(r.code, 2)
  t.match(r.stderr, /^peernet: server takes no --json: .*peernet log --json/)
  t.notOk(d.pidOf(), 'no daemon ran')
})
