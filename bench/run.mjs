#!/usr/bin/env node
// `npm run bench`: every bench/*.mjs but this one, in name order, each with this script's
// arguments (`npm run bench -- --json --quick`). Exits non-zero when any of them fails.
import { readdirSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('.', import.meta.url))
const self = fileURLToPath(import.meta.url).slice(dir.length)
const files = readdirSync(dir).filter(f => f.endsWith('.mjs') && f !== self).sort()
let failed = 0
for (const file of files) {
  const r = spawnSync(process.execPath, [dir + file, ...process.argv.slice(2)], { stdio: 'inherit' })
  if (r.status !== 0) {
    failed++
    process.stderr.write(`bench/${file} failed (${r.signal ?? `exit ${r.status}`})\n`)
  }
}
process.exitCode = failed > 0 ? 1 : 0
