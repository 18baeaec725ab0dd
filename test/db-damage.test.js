// A damaged database log is never silent: LevelDB's recovery drops what it cannot read, and the
// daemon says so on stderr and in daemon.log, and keeps the warning in the db until
// `status --clear-warnings`. A log torn at its tail (kill -9 mid-write) is no alarm. Real
// daemons through the real bin/peernet, real LevelDB files.
import t from 'tap'
import { openSync, writeSync, closeSync, readdirSync, statSync, readFileSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { datadir, killHard } from './lib/cli.js'
import { tempLevel, until } from './lib/helpers.js'
import { Warnings, MAX_WARNINGS } from '../lib/table/warnings.js'
import { recoveryLoss } from '../lib/daemon/db-check.js'

const QUIET = ['--connections', '0', '--interval', '0']
const lines = s => s.split('\n').filter(Boolean)

/** The db's write-ahead log (the daemon was stopped with data in it). */
function logFile (dir) {
  const db = join(dir, 'db')
  const name = readdirSync(db).find(f => f.endsWith('.log'))
  if (!name) throw new Error(`no .log in ${db}: ${readdirSync(db).join(' ')}`)
  return join(db, name)
}

/**
 * A daemon's data dir with n addresses added (then `last`, in a write of its own, when given),
 * stopped cleanly, or killed when kill is true.
 */
async function withAddresses (t, n, { kill = false, last } = {}) {
  const d = datadir(t)
  const pid = await d.start(...QUIET)
  const addrs = Array.from({ length: n }, (_, i) => `tcp://127.0.${Math.floor(i / 250)}.${(i % 250) + 1}:${1000 + i}`)
  const r = await d.run(['add', '-'], { input: addrs.join('\n') + '\n' })
  t.equal(r.code, 0, r.stderr)
  if (last) t.equal((await d.run(['add', last])).code, 0)
  if (kill) await killHard(pid)
  else t.equal((await d.run(['close'])).code, 0)
  return d
}

async function status (d) {
  const r = await d.run(['status', '--json'])
  if (r.code !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout)
}

t.test('200 KB overwritten in the middle of the log: said on stderr, in daemon.log, kept in status until cleared', async t => {
  const n = 10008
  const d = await withAddresses(t, n)
  const log = logFile(d.dir)
  const size = statSync(log).size
  t.ok(size > 400 * 1024, `the log holds the adds (${size} bytes)`)
  const fd = openSync(log, 'r+')
  writeSync(fd, Buffer.alloc(200 * 1024, 0x55), 0, 200 * 1024, Math.floor(size / 2) - 100 * 1024)
  closeSync(fd)

  const r = await d.run(['daemon', ...QUIET])
  t.equal(r.code, 0, 'the daemon starts (what it could read is kept)')
  d.track(d.pidOf())
  t.match(r.stdout, /^peernet daemon started/)
  t.equal(lines(r.stderr).length, 1, 'one warning line on stderr')
  t.match(r.stderr, /^peernet: warning: the database lost data: at start LevelDB dropped \d+ damaged bytes of its log \(\d+\.log: Corruption: .*\); .*may be gone \(clear it with `peernet status --clear-warnings`\)\n$/)
  const known = (await status(d)).known
  t.ok(known < n, `addresses were lost (${known} of ${n}): the warning is true`)
  await until(() => / warning message=".*the database lost data/.test(readFileSync(join(d.dir, 'daemon.log'), 'utf8')), { what: 'the warning in daemon.log' })
  t.pass('daemon.log has the warning')

  // LevelDB forgets at its next open (LOG rotates to LOG.old): the db remembers.
  t.equal((await d.run(['close'])).code, 0)
  const again = await d.run(['daemon', ...QUIET])
  t.equal(again.code, 0, again.stderr)
  d.track(d.pidOf())
  t.match(again.stderr, /warning: the database lost data/, 'the next start still says it (not cleared yet)')
  const s = await status(d)
  t.equal(s.warnings.length, 1, 'status --json keeps one warning')
  t.match(s.warnings[0], { time: Number, message: /lost data/ })
  const text = await d.run(['status'])
  t.match(lines(text.stdout)[0], /^warning: +\d{4}-.*the database lost data.*--clear-warnings/, 'status prints it first')

  const cleared = await d.run(['status', '--clear-warnings'])
  t.equal(cleared.code, 0, cleared.stderr)
  t.match(cleared.stdout, /^warning: .*lost data/, 'shown once more as it is cleared')
  t.match(cleared.stdout, /\ncleared 1 warning\n$/)
  t.same((await status(d)).warnings, [], 'gone from status')
  t.equal((await d.run(['close'])).code, 0)
  const third = await d.run(['daemon', ...QUIET])
  d.track(d.pidOf())
  t.equal(third.stderr, '', 'and from the next start: cleared for good')
  t.same((await status(d)).warnings, [])
})

t.test('a log torn at its tail after kill -9 raises no false alarm', async t => {
  const d = await withAddresses(t, 300, { kill: true, last: 'tcp://127.0.0.1:9' })
  const log = logFile(d.dir)
  // kill -9 in the middle of a write leaves its record partial: cut the last one (the one add) short.
  truncateSync(log, statSync(log).size - 7)
  const r = await d.run(['daemon', ...QUIET])
  t.equal(r.code, 0, r.stderr)
  d.track(d.pidOf())
  t.equal(r.stderr, '', 'no warning on stderr')
  const s = await status(d)
  t.same(s.warnings, [], 'no warning in status')
  t.equal(s.known, 300, 'the torn write is gone, every earlier one is there')
  t.notMatch(readFileSync(join(d.dir, 'daemon.log'), 'utf8'), / warning /, 'no warning in daemon.log')
  t.equal(recoveryLoss(join(d.dir, 'db')), null, 'and LevelDB logged no loss')
})

t.test('recoveryLoss reads what LevelDB logged, and nothing else', async t => {
  const dir = t.testdir({
    damaged: { LOG: '2026/01/01-00:00:00.000000 7f00 Recovering log #3\n2026/01/01-00:00:00.000001 7f00 (ignoring error) /x/db/000003.log: dropping 16121 bytes; Corruption: checksum mismatch\n2026/01/01-00:00:00.000002 7f00 (ignoring error) /x/db/000003.log: dropping 100 bytes; Corruption: checksum mismatch\n' },
    clean: { LOG: '2026/01/01-00:00:00.000000 7f00 Recovering log #3\n2026/01/01-00:00:00.000001 7f00 Delete type=0 #3\n' },
    none: {}
  })
  t.match(recoveryLoss(join(dir, 'damaged')), /dropped 16221 damaged bytes of its log \(000003\.log: Corruption: checksum mismatch\)/)
  t.equal(recoveryLoss(join(dir, 'clean')), null)
  t.equal(recoveryLoss(join(dir, 'none')), null, 'no LOG: nothing to say')
})

t.test(`warnings are kept in the db, oldest dropped past MAX_WARNINGS (${MAX_WARNINGS})`, async t => {
  const db = tempLevel(t)
  await db.open()
  const w = await Warnings.open(db)
  t.same(w.list(), [])
  for (let i = 0; i <= MAX_WARNINGS; i++) await w.add(`warning ${i}`, 1000 + i)
  t.equal(w.list().length, MAX_WARNINGS, 'the bound holds')
  t.equal(w.list()[0].message, 'warning 1', 'the oldest went')
  const again = await Warnings.open(db)
  t.same(again.list(), w.list(), 'the same list, read back from the db')
  t.equal(await again.clear(), MAX_WARNINGS)
  t.same((await Warnings.open(db)).list(), [], 'cleared in the db too')
})
