// A data dir that cannot be made or written: one line, exit 1, at once (never a hang: Node 20's
// recursive mkdir loops forever on /proc; this file's own timeout would catch that). Through
// the real bin/peernet; the unwritable cases run as uid 65534, since the tests run as root.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, rmSync, existsSync, chownSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { datadir, cleanEnv, BIN } from './lib/cli.js'
import { resolveDatadir } from '../lib/control/paths.js'

const lines = s => s.split('\n').filter(Boolean)
const COMMANDS = [['known'], ['daemon'], ['server', '--connections', '0', '--interval', '0']]

/** Run bin/peernet with PEERNET_PATH=path (as uid, when given); resolves {code, stdout, stderr}. */
function peernet (t, path, args, uid) {
  return new Promise((resolve, reject) => {
    const env = { ...cleanEnv(), PEERNET_PATH: path, PEERNET_NO_AUTOSTART: '' }
    const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, BIN, ...args], {
      env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], ...(uid === undefined ? {} : { uid, gid: uid })
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += d })
    child.stderr.on('data', d => { stderr += d })
    child.on('error', reject)
    // A hang is the bug: kill it and fail, rather than wait for tap's own timeout.
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`peernet ${args[0]} with PEERNET_PATH=${path} hung`)) }, 20000)
    t.teardown(() => { clearTimeout(timer); child.kill('SIGKILL') })
    child.on('close', code => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

function oneLine (t, r, pattern, what) {
  t.equal(r.code, 1, `${what}: exit 1 (${r.stderr.trim()})`)
  t.equal(lines(r.stderr).length, 1, `${what}: one line on stderr`)
  t.match(r.stderr, pattern, what)
  t.notMatch(r.stderr, /\bE[A-Z]{3,}\b|\n\s+at /, `${what}: no errno code, no stack trace`)
  t.equal(r.stdout, '', `${what}: nothing on stdout`)
}

t.test('a data dir under /proc: one line, exit 1, no hang (known, daemon, server)', async t => {
  for (const args of COMMANDS) {
    const r = await peernet(t, '/proc/peernet-test/x', args)
    oneLine(t, r, /^peernet: .*cannot create the data directory \/proc\/peernet-test\/x: \/proc does not allow new directories/, args[0])
  }
})

t.test('a data dir under a file: one line naming the file, exit 1', async t => {
  const d = datadir(t)
  const file = join(d.dir, 'file')
  writeFileSync(file, 'not a directory')
  for (const args of COMMANDS) {
    const r = await peernet(t, join(file, 'sub', 'dir'), args)
    oneLine(t, r, new RegExp(`cannot create the data directory ${file}/sub/dir: ${file} is a file, not a directory`), `${args[0]} under a file`)
    const same = await peernet(t, file, args)
    oneLine(t, same, new RegExp(`cannot create the data directory ${file}: it is a file, not a directory`), `${args[0]} on a file`)
  }
})

/** Can this machine run node as uid 65534 (root is needed to switch)? The reason it cannot, else null. */
async function nobodyUnavailable (t) {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'the tests do not run as root'
  const r = await peernet(t, '/nonexistent', ['--version'], 65534).catch(err => ({ code: null, stderr: err.message }))
  return r.code === 0 ? null : `cannot run bin/peernet as uid 65534 here: ${r.stderr.trim().split('\n')[0]}`
}

t.test('an unwritable data dir, as another user: the true reason, never "corrupt"', async t => {
  const why = await nobodyUnavailable(t)
  if (why) return t.skip(why)
  const base = mkdtempSync('/tmp/pn-ro-')
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  chmodSync(base, 0o755)
  const ro = join(base, 'ro') // root's, 0755: uid 65534 may look but not write
  mkdirSync(ro, { mode: 0o755 })
  for (const args of COMMANDS) {
    const below = await peernet(t, join(ro, 'data'), args, 65534)
    oneLine(t, below, new RegExp(`cannot create the data directory ${ro}/data: you may not create directories in ${ro} \\(permission denied\\)`), `${args[0]}: a data dir to make in an unwritable dir`)
    const at = await peernet(t, ro, args, 65534)
    oneLine(t, at, new RegExp(`cannot write to the data directory ${ro}: permission denied`), `${args[0]}: an existing data dir that is not ours`)
  }
  t.notOk(existsSync(join(ro, 'data')), 'nothing was made')

  // The data dir is ours, its database is not (left by root): not "corrupt", not "move it aside".
  const d = datadir(t)
  await d.start('--connections', '0', '--interval', '0')
  t.equal((await d.run(['close'])).code, 0)
  chmodSync(d.dir, 0o755)
  const mine = join(d.dir, 'mine')
  mkdirSync(mine)
  renameSync(join(d.dir, 'db'), join(mine, 'db'))
  chownSync(mine, 65534, 65534)
  const r = await peernet(t, mine, ['daemon', '--connections', '0', '--interval', '0'], 65534)
  oneLine(t, r, new RegExp(`cannot open the database in ${mine}/db: permission denied`), 'a database of another user')
  t.notMatch(r.stderr, /corrupt|move it aside/, 'it does not call the database corrupt')
})

t.test('an empty PEERNET_PATH= means unset, not the current directory', async t => {
  t.equal(resolveDatadir(undefined, { PEERNET_PATH: '' }), resolveDatadir(undefined, {}), 'the default data dir')
  t.equal(resolveDatadir(undefined, { PEERNET_PATH: '/x/y' }), '/x/y')
  t.equal(resolveDatadir('/flag', { PEERNET_PATH: '/x/y' }), '/flag', '--datadir wins')
  // Through the CLI: status with PEERNET_PATH= names the default dir, not the working directory.
  const d = datadir(t)
  const r = await new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, BIN, 'status', '--no-autostart'], {
      env: { ...cleanEnv(), PEERNET_PATH: '', HOME: d.dir }, cwd: d.dir, stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', x => { stderr += x })
    child.on('error', reject)
    child.on('close', code => resolve({ code, stderr }))
  })
  t.equal(r.code, 1)
  t.equal(r.stderr, `peernet: no daemon is running for ${join(d.dir, '.config', 'peernet')}; start one with \`peernet daemon\`\n`)
})
