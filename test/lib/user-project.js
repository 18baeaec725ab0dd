// peernet as a user meets it: `npm pack` in this checkout, then `npm install TARBALL level` in a
// project of their own, resolved by npm as it would be for them. The tests have no network, so
// a registry on 127.0.0.1 serves the metadata of the packages in this checkout's
// package-lock.json (the versions our tests run against; a user may get newer ones in the same
// ranges), and npm takes their tarballs from its cache, which `npm ci` filled. A dependency the
// lock does not hold (such as the ws 3 websocket-stream asks for) cannot be installed at all.
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { tempDir } from './helpers.js'

const run = promisify(execFile)
export const root = new URL('../..', import.meta.url).pathname

/**
 * Advisory floors for packages in a user's tree: the first version with no published advisory.
 * ws: GHSA-3h5v-q93c-6h6q (DoS by many headers, fixed in 8.17.1). ssh2: GHSA-652h-xwhf-q4h6
 * (command injection, fixed in 1.4.0) and GHSA-45x7-px36-x8w8 (Terrapin, fixed in 1.15.0).
 * debug: GHSA-gxpj-cx7g-858c and GHSA-9vvw-cc9w-f27h (ReDoS, 2.6.9). ms: GHSA-w9mr-4mfr-499f
 * (ReDoS, 2.0.0). minimist: GHSA-xvch-5gv4-984h (prototype pollution, 1.2.6).
 */
export const ADVISORY_FLOORS = { ws: '8.17.1', ssh2: '1.15.0', debug: '2.6.9', ms: '2.0.0', minimist: '1.2.6' }

/** Compare dotted versions (no prerelease tags in these trees): negative when a < b. */
export function compareVersions (a, b) {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i]
  return 0
}

/** `npm pack` this checkout (lib/ as built) into a temp dir: the pack report and the tarball's path. */
export async function pack (t) {
  const dir = tempDir(t, 'pn-pack-')
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, maxBuffer: 64 << 20 })
  const [report] = JSON.parse(stdout)
  return { report, tarball: join(dir, report.filename) }
}

/** The lock's packages as registry documents: name → { name, dist-tags, versions }. */
function packuments () {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'))
  const docs = new Map()
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.link) continue
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)
    const doc = docs.get(name) ?? { name, 'dist-tags': {}, versions: {} }
    const { version, integrity } = entry
    const base = name.split('/').pop()
    doc.versions[version] = {
      ...pick(entry, ['dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin', 'engines', 'os', 'cpu', 'license', 'hasInstallScript']),
      name,
      version,
      dist: { integrity, tarball: `https://registry.npmjs.org/${name}/-/${base}-${version}.tgz` }
    }
    const latest = doc['dist-tags'].latest
    if (!latest || compareVersions(version, latest) > 0) doc['dist-tags'].latest = version
    docs.set(name, doc)
  }
  return docs
}

function pick (o, keys) {
  return Object.fromEntries(keys.filter(k => o[k] !== undefined).map(k => [k, o[k]]))
}

/** A registry on 127.0.0.1 serving packuments(); closed at teardown. */
async function registry (t) {
  const docs = packuments()
  const server = http.createServer((req, res) => {
    const doc = docs.get(decodeURIComponent(req.url.slice(1)))
    // no-store: these documents must not land in the user's npm cache.
    res.setHeader('cache-control', 'no-store')
    if (!doc) { res.statusCode = 404; res.end('{"error":"not found"}'); return }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(doc))
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => server.close(resolve)))
  return `http://127.0.0.1:${server.address().port}/`
}

/** Run npm in `cwd`; the output is kept for failure messages. */
export function npm (cwd, args) {
  return run('npm', args, { cwd, maxBuffer: 64 << 20 })
}

/**
 * A new project with peernet installed from its tarball, plus `level`, as the README says.
 * Returns its directory and the pack report.
 */
export async function userProject (t) {
  const { report, tarball } = await pack(t)
  const url = await registry(t)
  const dir = tempDir(t, 'pn-user-')
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'peernet-user', version: '1.0.0', private: true, type: 'module' }))
  try {
    await npm(dir, [
      'install', tarball, 'level',
      '--prefer-offline', `--registry=${url}`, '--replace-registry-host=never', '--fetch-retries=0',
      '--no-audit', '--no-fund', '--no-update-notifier',
      // Install scripts only compile optional native parts (ssh2's crypto and cpu-features, which
      // peernet never uses; level loads its prebuilt binary): half a minute we skip.
      '--ignore-scripts'
    ])
  } catch (err) {
    // ENOTCACHED: a tarball is missing from the npm cache (npm ci fills it). ETARGET: a dependency
    // outside the tarball wants a version our lock does not hold, which a user would get.
    throw new Error(`npm install of the packed peernet failed:\n${err.stderr || err.message}`)
  }
  return { dir, report }
}

/** Every installed package in `dir` as [name, version, path], from `npm ls --all --json`. */
export async function installed (dir) {
  // npm ls exits 1 on an "invalid" edge (the bundled overrides are, by design); its JSON is whole.
  const { stdout } = await npm(dir, ['ls', '--all', '--json', '--long']).catch(err => err)
  const out = new Map()
  const walk = deps => {
    for (const [name, d] of Object.entries(deps ?? {})) {
      if (d.version && d.path) out.set(d.path, [name, d.version, d.path])
      walk(d.dependencies)
    }
  }
  walk(JSON.parse(stdout).dependencies)
  return [...out.values()]
}
