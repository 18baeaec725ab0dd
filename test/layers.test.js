// Layers point down: the wire format knows nothing above it, and transports know only the wire.
// Read from the sources, so a new import that points up fails here before anyone trips on it.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

/** What each layer (a folder of src/) may import from src/. */
const MAY_IMPORT = {
  wire: ['wire'],
  transport: ['transport', 'wire'],
  // A STUN server is a service of its own: it knows nothing of nodes, the daemon or the CLI.
  stun: ['stun', 'util']
}

/** The src/ folders a source file imports from (static, re-exports and dynamic imports). */
function importedLayers (file) {
  const text = readFileSync(file, 'utf8')
  const out = []
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'(\.[^']+)'/gm)) {
    const target = relative(SRC, join(dirname(file), m[1]))
    out.push({ spec: m[1], layer: target.split('/')[0] })
  }
  return out
}

for (const [layer, allowed] of Object.entries(MAY_IMPORT)) {
  t.test(`${layer}/ imports only from ${allowed.join(', ')}`, async t => {
    const files = readdirSync(join(SRC, layer)).filter(f => f.endsWith('.ts')).map(f => join(SRC, layer, f))
    t.ok(files.length > 0, `${layer}/ has sources`)
    for (const file of files) {
      const up = importedLayers(file).filter(i => !allowed.includes(i.layer))
      t.same(up.map(i => i.spec), [], `${relative(SRC, file)} imports nothing from above`)
    }
  })
}
