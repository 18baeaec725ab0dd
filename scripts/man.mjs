#!/usr/bin/env node
// Write man/peernet.1 from the command table (via the compiled lib/cli/man.js). Run after tsc:
// `npm run build` does both, `npm run man` only this. The page is committed (npm installs it
// from there); test/man.test.js fails when it differs from what this script would write.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { renderMan } from '../lib/cli/man.js'
import { version } from '../lib/control/version.js'

const dir = new URL('../man/', import.meta.url)
const file = new URL('peernet.1', dir)
const page = renderMan(version())
let old = null
try {
  old = readFileSync(file, 'utf8')
} catch {}
if (old !== page) {
  mkdirSync(dir, { recursive: true })
  writeFileSync(file, page)
  console.error('man/peernet.1 written')
}
