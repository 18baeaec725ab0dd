// The man page is generated from the command table: the committed man/peernet.1 must be what
// the table renders today, and everything in the table must be in it.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { renderMan, code, prose } from '../lib/cli/man.js'
import { COMMANDS, GLOBAL_FLAGS, SETTINGS } from '../lib/cli/commands.js'
import { version } from '../lib/control/version.js'

const page = readFileSync(new URL('../man/peernet.1', import.meta.url), 'utf8')

/** The page as a reader sees it, roughly: no font changes, escapes turned back into characters. */
const text = page
  .replace(/\\f[BIRP]/g, '')
  .replace(/\\-/g, '-')
  .replace(/\\e/g, '\\')
  .replace(/\\\(aq/g, "'")
  .replace(/\\\(ga/g, '`')
  .replace(/\\&/g, '')

t.test('man/peernet.1 is up to date with the command table', async t => {
  const fresh = renderMan(version())
  t.ok(page === fresh, 'man/peernet.1 differs from renderMan(version()): run `npm run man` (or `npm run build`) and commit man/peernet.1')
  t.match(page, /^\.TH PEERNET 1 .*"peernet \d+\.\d+\.\d+[^"]*"/m, 'section 1, with the version')
})

t.test('the page has the sections a man page needs', async t => {
  for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'GLOBAL OPTIONS', 'SETTINGS', 'ENVIRONMENT', 'FILES', 'EXIT STATUS', 'EXAMPLES', 'SEE ALSO']) {
    t.match(page, new RegExp(`^\\.SH ${section}$`, 'm'), section)
  }
  for (const name of ['PEERNET_PATH', 'PEERNET_NO_AUTOSTART', 'XDG_RUNTIME_DIR', 'DATADIR/db', 'DATADIR/run/control.sock', 'DATADIR/peernet.pid', 'DATADIR/daemon.log', 'DATADIR/daemon.log.1', 'DATADIR/config.json']) {
    t.ok(text.includes(name), name)
  }
})

t.test('every command, alias and flag of the table is in the page', async t => {
  for (const c of COMMANDS) {
    t.ok(text.includes(`peernet ${c.name}`), `command ${c.name}`)
    t.ok(text.includes(c.describe.replace(/`/g, '')), `description of ${c.name}`)
    for (const a of c.aliases ?? []) t.match(page, new RegExp(`^${a}$|, ${a}$|\\\\fB${a}\\\\fR`, 'm'), `alias ${a} of ${c.name}`)
    for (const f of c.flags) {
      t.ok(text.includes(`--${f.name}`), `--${f.name} of ${c.name}`)
      if (f.alias) t.ok(text.includes(`-${f.alias}, --${f.name}`), `-${f.alias} of ${c.name}`)
      if (f.value) t.ok(text.includes(`--${f.name} ${f.value}`), `--${f.name} ${f.value} of ${c.name}`)
      if (f.type === 'boolean' && f.default === true) t.ok(text.includes(`--no-${f.name}`), `--no-${f.name} of ${c.name}`)
    }
    for (const ex of c.examples ?? []) t.ok(text.includes(ex), `example: ${ex}`)
  }
  for (const f of [...GLOBAL_FLAGS, { name: 'help', alias: 'h' }, { name: 'version', alias: 'V' }]) {
    t.ok(text.includes(`--${f.name}`), `global --${f.name}`)
    if (f.alias) t.ok(text.includes(`-${f.alias}, --${f.name}`), `global -${f.alias}`)
  }
  for (const f of SETTINGS) {
    // A boolean setting (--http-public) takes no value.
    t.ok(text.includes(f.value === undefined ? `--${f.name}` : `--${f.name} ${f.value}`), `setting --${f.name}`)
    t.ok(text.includes(f.describe.slice(1)), `description of setting ${f.name}`)
  }
})

t.test('defaults and bounds come from the table', async t => {
  for (const c of COMMANDS) {
    for (const f of c.flags) {
      if (f.default !== undefined && f.type !== 'boolean') t.ok(text.includes(`Default: ${f.default}.`), `default of --${f.name}`)
      if (f.min !== undefined && f.max !== undefined) t.ok(text.includes(`from ${f.min} to ${f.max}`), `bounds of --${f.name}`)
    }
  }
})

t.test('troff escaping', async t => {
  t.equal(code('--no-follow'), '\\-\\-no\\-follow', 'hyphens in literals are minus signs')
  t.equal(code('a\\b'), 'a\\eb', 'a backslash prints as itself')
  t.equal(code("it's `x`"), 'it\\(aqs \\(gax\\(ga', 'quotes stay ASCII in literals')
  t.equal(prose('long-lived, see --json or -n'), 'long-lived, see \\-\\-json or \\-n', 'hyphenated words keep hyphens, options get minus signs')
  t.equal(prose('run `peernet log -n 5`'), 'run \\fBpeernet log \\-n 5\\fR', 'backquoted spans are bold literals')
  t.equal(prose('caf\u00e9'), 'caf\\[u00E9]', 'non-ASCII as a named glyph')
  // No text line starts with a control character unless it is a macro we wrote.
  const controlLines = page.split('\n').filter(l => l.startsWith('.') || l.startsWith("'"))
  t.same(controlLines.filter(l => !/^\.(\\"|TH|SH|SS|PP|TP|RS|RE|nf|fi|br|nh|ad)( |$)/.test(l)), [], 'every control line is a macro we meant')
  t.notMatch(page, /\n\n/, 'no blank lines (they mean a break in troff)')
  t.notMatch(page.replace(/\\[\\e\-&fBIRP(]|\\\[u[0-9A-F]+\]|\\"|\\%/g, ''), /\\[^(]/, 'no stray backslashes')
})
