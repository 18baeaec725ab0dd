// A real node (real LevelDB, a real tcp or websocket server on 127.0.0.1) for integration tests.
import { peernet, listen } from '../../lib/index.js'
import transport from '../../lib/transport/index.js'
import { tempDir, tempLevel } from './helpers.js'

/** A real node with a real server; everything closed at teardown. `pn.url` is its address. */
export async function realNode (t, protocol = 'tcp', opts = {}) {
  const dir = tempDir(t)
  const pn = peernet(tempLevel(t, dir), { transport, interval: 0, bootstrap: false, purge: 0, ...opts })
  const server = await listen(protocol, { host: '127.0.0.1' }, (stream, info) => pn.accept(stream, info))
  if (opts.advertise !== false) pn.advertise(server.address)
  t.teardown(async () => { await pn.close(); await server.close() })
  pn.url = server.address
  return pn
}
