// The peernet command line. Kept lean: a client command loads only what it needs.
import { readFileSync } from 'node:fs'

const args = process.argv.slice(2)
if (args[0] === '--version' || args[0] === '-V' || args[0] === 'version') {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  process.stdout.write(pkg.version + '\n')
} else {
  process.stderr.write('peernet: only --version is available in this build\n')
  process.exitCode = 2
}
