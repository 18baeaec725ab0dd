// The two ways a command line is parsed must agree: the lean parser (the common path) and
// yargs (help, usage errors, completion), both built from the command table. Whatever the
// lean parser accepts, yargs accepts the same way; whatever is wrong, yargs calls a usage error.
// Then the real bin/peernet: usage errors exit 2 with one line and start no daemon.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { leanParse, UsageError } from '../lib/cli/parse.js'
import { yargsParse } from '../lib/cli/yargs.js'
import { COMMANDS } from '../lib/cli/commands.js'
import { BIN, cleanEnv } from './lib/cli.js'
import { MAX_MESSAGE } from '../lib/wire/record.js'

const A = 'ws://127.0.0.1:48832'
const B = 'tcp://127.0.0.1:7000'
const ID = 'c'.repeat(64)

/**
 * Command lines, each with what it is:
 *   lean    valid, and the lean parser handles it (yargs must give the same result)
 *   yargs   valid, but left to yargs (the lean parser returns null; yargs must accept it)
 *   invalid a usage error (lean returns null; yargs throws UsageError, its message matching `error`)
 * `todo` marks a line where src/ is known to be wrong (see the reason); tap counts it, not fails.
 */
const LINES = [
  // every command, with its arguments and flags
  { argv: ['server'], lean: true },
  { argv: ['server', '--network', 'x', '--connections', '3', '--interval', '1000', '--purge', '0', '--table-size', '50', '--hops', '7'], lean: true },
  { argv: ['daemon', '--table-size=5', '--connections=0'], lean: true },
  { argv: ['daemon', '--no-relay', '--no-webrtc', '--relay-links', '0', '--relay-links-per-peer', '2', '--relay-rate', '1024'], lean: true },
  { argv: ['daemon', '--ice', 'stun:127.0.0.1', '--ice', 'turn:u:p@[::1]:3478', '--webrtc-bind', '127.0.0.1'], yargs: true },
  { argv: ['server', '--webrtc-bind', '::1'], lean: true },
  { argv: ['daemon', '--bootstrap', A, '--bootstrap', B, '--advertise', A], yargs: true },
  { argv: ['close'], lean: true },
  { argv: ['stop'], lean: true },
  { argv: ['status', '--json'], lean: true },
  { argv: ['log'], lean: true },
  { argv: ['log', '-n', '5'], lean: true },
  { argv: ['log', '--lines=0', '--no-follow'], lean: true },
  { argv: ['log', '-n', '100', '--no-follow', '--json'], lean: true },
  { argv: ['log', '-n5'], yargs: true },
  { argv: ['known'], lean: true },
  { argv: ['own'], lean: true },
  { argv: ['connections'], lean: true },
  { argv: ['id'], lean: true },
  { argv: ['id', '--json'], lean: true },
  { argv: ['owner', 'foo'], lean: true },
  { argv: ['owner', 'foo', '--json'], lean: true },
  { argv: ['owner', ''], invalid: true, error: /empty/ },
  { argv: ['ring'], lean: true },
  { argv: ['offer', 'stun', 'stun:127.0.0.1:3478'], lean: true },
  { argv: ['offer', 'stun', 'stun:127.0.0.1:3478', '--version', '2'], lean: true },
  { argv: ['offer', 'chat', 'wss://127.0.0.1:8443/c', '--meta', 'region=lab', '--meta', 'k=a=b'], yargs: true },
  { argv: ['offer', 'Stun', 'stun:127.0.0.1:1'], invalid: true, error: /not a service name/ },
  { argv: ['offer', 'stun', 'nourl'], invalid: true, error: /SCHEME:REST/ },
  { argv: ['offer', 'stun', 'stun:127.0.0.1:1', '--meta', 'novalue'], invalid: true, error: /KEY=VALUE/ },
  { argv: ['offer', 'stun', 'stun:' + 'x'.repeat(508)], invalid: true, error: /over 512 bytes/ },
  { argv: ['offer', 'stun'], invalid: true, error: /usage: peernet offer|offer: missing/ },
  { argv: ['send', ID, '"hi"'], lean: true },
  { argv: ['send', ID.toUpperCase(), '{"a":[1,2]}', '--timeout', '500', '--json'], lean: true },
  { argv: ['send', ID, '-'], lean: true },
  { argv: ['send', ID, '--', '-5'], lean: true },
  { argv: ['send', 'c0ffee', '"hi"'], invalid: true, error: /not a node id/ },
  { argv: ['send', ID, 'hi'], invalid: true, error: /not JSON/ },
  { argv: ['send', ID, '"' + 'x'.repeat(MAX_MESSAGE - 1) + '"'], invalid: true, error: /too large: 20481 bytes of JSON, over MAX_MESSAGE/ },
  { argv: ['send', ID, '"x"', '--timeout', '60001'], invalid: true, error: /timeout/ },
  { argv: ['send', ID], invalid: true, error: /usage: peernet send|send: missing/ },
  { argv: ['messages'], lean: true },
  { argv: ['messages', '--no-follow', '--json'], lean: true },
  { argv: ['messages', 'x'], invalid: true, error: /unexpected argument|Unknown argument/ },
  { argv: ['withdraw', 'stun'], lean: true },
  { argv: ['withdraw', 'stun', 'stun:127.0.0.1:3478'], lean: true },
  { argv: ['withdraw', 'stun', 'a', 'b'], invalid: true, error: /"b"|: b$/ },
  { argv: ['offers', '--json'], lean: true },
  { argv: ['find', 'stun', '--max', '1', '--timeout', '100'], lean: true },
  { argv: ['find', 'stun', '--max', '1001'], invalid: true, error: /max/ },
  { argv: ['find', 'a_b'], invalid: true, error: /not a service name/ },
  { argv: ['reload'], lean: true },
  { argv: ['connect', 'ab'.repeat(32) + '@ws://127.0.0.1:48832'], lean: true },
  { argv: ['connect', A], lean: true },
  { argv: ['connect', 'WS://127.0.0.1:48832/'], lean: true },
  { argv: ['connect', 'tcp://[::1]:7000'], lean: true },
  { argv: ['connect', 'AB'.repeat(32)], lean: true },
  { argv: ['introduce'], lean: true },
  { argv: ['introduce', A], lean: true },
  { argv: ['introduce', 'ab'.repeat(32)], lean: true },
  { argv: ['disconnect', A], lean: true },
  { argv: ['disconnect', '383f309f8e1f524e8508d5a2c5dbfe1a383f309f8e1f524e8508d5a2c5dbfe1a'], lean: true },
  { argv: ['add', A, B], lean: true },
  { argv: ['add', '-'], lean: true },
  { argv: ['rm', B], lean: true },
  { argv: ['join', 'chat'], lean: true },
  { argv: ['join', 'chat', 'stun'], lean: true },
  { argv: ['part', 'chat'], lean: true },
  { argv: ['subnets'], lean: true },
  { argv: ['search', 'chat'], lean: true },
  { argv: ['search', 'chat', '--max', '1', '--timeout', '100', '--hops', '3'], lean: true },
  { argv: ['search', 'chat', '--max=1', '--timeout=0', '--hops=64'], lean: true },
  { argv: ['listen', 'ws'], lean: true },
  { argv: ['listen', 'tcp', '--port', '7000', '--host', '0.0.0.0'], lean: true },
  { argv: ['listen', 'ws', '--port=0'], lean: true },
  { argv: ['listen', 'wss', '--cert', 'c.pem', '--key=k.pem', '--port', '443'], lean: true },
  { argv: ['unlisten', A], lean: true },
  { argv: ['servers'], lean: true },
  { argv: ['stats', B], lean: true },
  { argv: ['log', '-n', '1000'], lean: true },
  { argv: ['unlisten', 'ws://127.0.0.1:8080'], lean: true }, // (a service on every interface: its real unlisten is in cli-listen.test.js)
  { argv: ['listen', 'ws', '--host', '[::1]'], lean: true },
  { argv: ['join', 'é'.repeat(64), 'my chat'], lean: true },
  { argv: ['server', '--no-json'], lean: true },
  { argv: ['status', '--no-autostart'], lean: true }, // harmless where nothing starts: accepted, not in its help
  { argv: ['stats', '383f309f8e1f524e8508d5a2c5dbfe1a383f309f8e1f524e8508d5a2c5dbfe1a'], lean: true },
  // global flags, before or after the command
  { argv: ['--json', 'known'], lean: true },
  { argv: ['--datadir', '/tmp/x', 'status'], lean: true },
  { argv: ['status', '--datadir=/tmp/y', '--sockfile', '/tmp/y.sock'], lean: true },
  { argv: ['--no-autostart', 'connections'], lean: true },
  { argv: ['connections', '--no-autostart', '--no-json'], lean: true },
  { argv: ['connect', '--json', A], lean: true },
  { argv: ['status', '--json=true'], yargs: true },
  // `--` ends the flags
  { argv: ['connect', '--', A], lean: true },
  { argv: ['--', 'status'], invalid: true, error: /./ },
  // unknown commands and flags
  { argv: [], invalid: true, error: /command/ },
  { argv: ['bogus'], invalid: true, error: /unknown command "bogus"/ },
  { argv: ['--json', 'conect', A], invalid: true, error: /unknown command "conect" \(did you mean "connect"\?\)/ },
  { argv: ['stauts'], invalid: true, error: /did you mean "status"/ },
  { argv: ['server', '--json'], invalid: true, error: /server takes no --json/ },
  { argv: ['status', '--bogus'], invalid: true, error: /bogus/ },
  { argv: ['log', '-x'], invalid: true, error: /x/ },
  { argv: ['search', 'chat', '--bogus=1'], invalid: true, error: /bogus/ },
  { argv: ['status', '--no-datadir'], invalid: true, error: /datadir/ },
  { argv: ['status', '--datadir='], invalid: true, error: /datadir/ },
  { argv: ['server', '--network='], invalid: true, error: /network/ },
  // missing and extra positionals
  ...['connect', 'disconnect', 'add', 'rm', 'join', 'part', 'search', 'listen', 'unlisten', 'stats'].map(c => ({ argv: [c], invalid: true, error: new RegExp(`usage: peernet ${c}|${c}: missing`) })),
  { argv: ['status', 'extra'], invalid: true, error: /extra/ },
  { argv: ['close', 'now'], invalid: true, error: /now/ },
  { argv: ['connect', A, B], invalid: true, error: /tcp:\/\/127\.0\.0\.1:7000/ },
  { argv: ['search', 'a', 'b'], invalid: true, error: /"b"|: b$/ },
  // missing values, bad numbers, out of range
  { argv: ['search', 'chat', '--max'], invalid: true, error: /max/ },
  { argv: ['log', '-n'], invalid: true, error: /\bn\b/ },
  { argv: ['--datadir'], invalid: true, error: /datadir|command/ },
  { argv: ['listen', 'ws', '--host'], invalid: true, error: /host/ },
  { argv: ['log', '-n', 'abc'], invalid: true, error: /--lines must be a whole number/ },
  { argv: ['search', 'chat', '--max', '1.5'], invalid: true, error: /--max must be a whole number/ },
  { argv: ['search', 'chat', '--timeout', 'soon'], invalid: true, error: /--timeout must be a whole number/ },
  { argv: ['listen', 'ws', '--port', 'x'], invalid: true, error: /--port must be a whole number/ },
  { argv: ['search', 'chat', '--max', '0'], invalid: true, error: /--max must be at least 1/ },
  { argv: ['search', 'chat', '--hops', '65'], invalid: true, error: /--hops must be at most 64/ },
  { argv: ['search', 'chat', '--hops=0'], invalid: true, error: /--hops must be at least 1/ },
  { argv: ['log', '-n', '-1'], invalid: true, error: /--lines must be at least 0/ },
  { argv: ['listen', 'ws', '--port', '65536'], invalid: true, error: /--port must be at most 65535/ },
  { argv: ['listen', 'ws', '--port=-1'], invalid: true, error: /--port must be at least 0/ },
  { argv: ['server', '--connections', '1001'], invalid: true, error: /--connections must be at most 1000/ },
  { argv: ['daemon', '--table-size', '0'], invalid: true, error: /--table-size must be at least 1/ },
  { argv: ['daemon', '--relay-rate', '1023'], invalid: true, error: /--relay-rate must be at least 1024/ },
  { argv: ['daemon', '--relay-links', '10001'], invalid: true, error: /--relay-links must be at most 10000/ },
  { argv: ['daemon', '--relay-links-per-peer', '-1'], invalid: true, error: /--relay-links-per-peer must be at least 0/ },
  { argv: ['server', '--interval', '-5'], invalid: true, error: /--interval must be at least 0/ },
  { argv: ['log', '-n', '1001'], invalid: true, error: /--lines must be at most 1000 \(allowed: 0 to 1000\)/ },
  // WebRTC settings: ICE server URLs and the bind address, checked where they are given
  { argv: ['daemon', '--ice', 'http://127.0.0.1:3478'], invalid: true, error: /--ice: ICE server "http:\/\/127\.0\.0\.1:3478": expected stun:HOST\[:PORT\] or turn:USER:PASS@HOST\[:PORT\]/ },
  { argv: ['daemon', '--ice', 'turn:127.0.0.1'], invalid: true, error: /--ice: .*a TURN server needs USER:PASS@/ },
  { argv: ['daemon', '--ice', 'stun:0.0.0.0'], invalid: true, error: /--ice: .*unspecified address/ },
  { argv: ['daemon', ...Array(9).fill(['--ice', 'stun:127.0.0.1']).flat()], invalid: true, error: /--ice: at most MAX_ICE_SERVERS \(8\)/ },
  { argv: ['server', '--webrtc-bind', 'localhost'], invalid: true, error: /--webrtc-bind: webrtc-bind "localhost": give an IP address/ },
  // bad addresses, protocols and subnet names
  { argv: ['connect', 'notaurl'], invalid: true, error: /invalid address "notaurl"/ },
  { argv: ['connect', 'ws://'], invalid: true, error: /invalid address "ws:\/\/"/ },
  { argv: ['connect', 'tcp://127.0.0.1'], invalid: true, error: /port/ },
  { argv: ['connect', 'http://127.0.0.1:1'], invalid: true, error: /http/ },
  { argv: ['add', A, 'notaurl'], invalid: true, error: /notaurl/ },
  { argv: ['rm', 'ws://'], invalid: true, error: /ws:\/\// },
  { argv: ['disconnect', 'ws://'], invalid: true, error: /ws:\/\// },
  { argv: ['stats', 'nope'], invalid: true, error: /"nope" is neither an address .* nor a peer id/ },
  { argv: ['disconnect', 'nope'], invalid: true, error: /"nope" is neither an address .* nor a peer id/ },
  { argv: ['unlisten', 'ws://'], invalid: true, error: /ws:\/\// },
  { argv: ['listen', 'wss'], invalid: true, error: /listen wss needs --cert FILE and --key FILE/ },
  { argv: ['listen', 'wss', '--cert', 'c.pem'], invalid: true, error: /listen wss needs --cert FILE and --key FILE/ },
  { argv: ['listen', 'ws', '--cert', 'c.pem', '--key', 'k.pem'], invalid: true, error: /--cert and --key are for wss, not ws/ },
  { argv: ['listen', 'tcp', '--key', 'k.pem'], invalid: true, error: /--cert and --key are for wss, not tcp/ },
  { argv: ['listen', 'http'], invalid: true, error: /http/ },
  { argv: ['join', ''], invalid: true, error: /subnet/ },
  { argv: ['join', 'chat '], invalid: true, error: /white space/ },
  { argv: ['join', 'a\u200bb'], invalid: true, error: /invisible/ },
  { argv: ['search', 'é'.repeat(65)], invalid: true, error: /at most 128 bytes of UTF-8/ },
  // Hosts that are no peer (unspecified, broadcast) are address.test.js's table; loopback here.
  { argv: ['connect', 'ws://127.0.0.1:0'], invalid: true, error: /out of range/ },
  { argv: ['add', 'tcp://127.01.0.1:1'], invalid: true, error: /malformed IPv4/ },
  { argv: ['connect', 'mem://x'], invalid: true, error: /allowed: tcp, ws, wss\)$/ },
  { argv: ['connect', 'ab'.repeat(31)], invalid: true, error: /is not a node id \(64 hex digits\) nor an address/ },
  { argv: ['introduce', 'x'], invalid: true, error: /neither an address/ },
  { argv: ['unlisten', 'mem://x'], invalid: true, error: /allowed: tcp, ws, wss\)$/ },
  { argv: ['search', ''], invalid: true, error: /subnet/ }
]

const ENV = {}
const shape = p => p === null ? null : { command: p.command.name, args: p.args, flags: p.flags }

async function viaYargs (argv, env = ENV) {
  try {
    return { parsed: shape(await yargsParse(argv, 'x', env)) }
  } catch (err) {
    return { err }
  }
}

t.test('the table of lines covers every command', async t => {
  t.ok(LINES.length >= 60, `${LINES.length} lines`)
  for (const c of COMMANDS) {
    if (c.name === 'completion') continue
    t.ok(LINES.some(l => !l.invalid && l.argv.includes(c.name)), `a valid line runs ${c.name}`)
  }
})

for (const line of LINES) {
  const name = `peernet ${line.argv.map(a => a === '' ? '""' : a).join(' ')}`
  t.test(name, { todo: line.todo }, async t => {
    const lean = shape(leanParse(line.argv, ENV))
    const y = await viaYargs(line.argv)
    if (line.invalid) {
      t.equal(lean, null, 'the lean parser hands it over')
      t.ok(y.err instanceof UsageError, `yargs: a usage error (got ${y.err ? `${y.err.name}: ${y.err.message}` : JSON.stringify(y.parsed)})`)
      if (y.err instanceof UsageError) {
        t.match(y.err.message, line.error, 'the message says what is wrong')
        t.notOk(y.err.message.includes('\n'), 'one line')
      }
      return
    }
    t.notOk(y.err, `yargs accepts it${y.err ? ` (${y.err.message})` : ''}`)
    t.not(y.parsed, null, 'yargs ran the command')
    if (line.lean) {
      t.not(lean, null, 'the lean parser handles it')
      t.same(y.parsed, lean, 'yargs parses it as the lean parser does')
      // same keys, same values, nothing extra on either side
      t.same(Object.keys(y.parsed?.flags ?? {}).sort(), Object.keys(lean?.flags ?? {}).sort(), 'the same flags')
    } else {
      t.equal(lean, null, 'the lean parser hands it to yargs')
    }
  })
}

t.test('PEERNET_NO_AUTOSTART turns auto-start off on both paths', async t => {
  for (const value of ['1', 'true']) {
    const env = { PEERNET_NO_AUTOSTART: value }
    t.equal(leanParse(['known'], env).flags.autostart, false, `lean, ${value}`)
    t.equal((await viaYargs(['known'], env)).parsed.flags.autostart, false, `yargs, ${value}`)
  }
  t.equal(leanParse(['known'], { PEERNET_NO_AUTOSTART: '' }).flags.autostart, true, 'empty: on')
})

// --- the real bin/peernet -----------------------------------------------------------------

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))

function peernet (t, args) {
  const dir = mkdtempSync('/tmp/pnp-')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return new Promise((resolve, reject) => {
    // Without tap's hooks, as every test's peernet runs (test/lib/cli.js): the CLI runs from its
    // bundle, whose coverage would be mapped onto src/cli piecemeal; tsc's modules are what
    // the in-process tests cover.
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...cleanEnv(), PEERNET_PATH: dir, PEERNET_NO_AUTOSTART: '1' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += d })
    child.stderr.on('data', d => { stderr += d })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`peernet ${args.join(' ')} did not finish`)) }, 30000)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, dir })
    })
  })
}

for (const args of [['connect', 'notaurl'], ['connect', 'ws://'], ['bogus'], ['search', 'x', '--max', '0']]) {
  t.test(`bin: peernet ${args.join(' ')} is a usage error`, async t => {
    const r = await peernet(t, args)
    t.equal(r.code, 2, 'exit status 2')
    t.equal(r.stdout, '', 'nothing on stdout')
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line on stderr: ${r.stderr.trim()}`)
    t.match(r.stderr, /^peernet: /, 'says who is speaking')
    t.notMatch(r.stderr, /\n\s+at |Error:/, 'no stack trace')
    t.notOk(existsSync(`${r.dir}/peernet.pid`), 'no daemon was started')
    t.notOk(existsSync(`${r.dir}/db`), 'no database was created')
  })
}

t.test('bin: peernet --version prints the package version', async t => {
  for (const flag of ['--version', '-V']) {
    const r = await peernet(t, [flag])
    t.equal(r.code, 0)
    t.equal(r.stdout, `${pkg.version}\n`, flag)
  }
})

t.test('bin: peernet status --help', async t => {
  const r = await peernet(t, ['status', '--help'])
  t.equal(r.code, 0, 'exit status 0')
  t.match(r.stdout, /peernet status/, 'shows the command')
  t.match(r.stdout, /--datadir/, 'and the global flags')
  t.equal(r.stderr, '')
  t.notOk(existsSync(`${r.dir}/peernet.pid`), 'no daemon was started')
})

t.test('bin: peernet completion prints a script that asks peernet for completions', async t => {
  const r = await peernet(t, ['completion'])
  t.equal(r.code, 0)
  t.match(r.stdout, /--get-yargs-completions/)
  t.match(r.stdout, /complete .*peernet/)
})

t.test('bin: --get-yargs-completions (what the script calls) lists commands', async t => {
  // The script passes the words typed so far, the program name first.
  for (const args of [['--get-yargs-completions', 'con'], ['--get-yargs-completions', 'peernet', 'con']]) {
    const r = await peernet(t, args)
    t.equal(r.code, 0)
    const words = r.stdout.split('\n')
    t.ok(words.includes('connect'), `connect (${args.join(' ')})`)
    t.ok(words.includes('connections'), `connections (${args.join(' ')})`)
  }
  const r = await peernet(t, ['--get-yargs-completions', 'peernet', 'search', '--'])
  t.ok(r.stdout.split('\n').includes('--max'), 'flags of a command')
})
