// Real nodes for the benches of connect by id (reach, relay): each on its own LevelDB in a temp
// dir, over tcp on 127.0.0.1, the ring on 200 ms rounds; one that listens advertises its address
// (pn.url), one that does not only dials out. close() closes every node made and removes the dirs.
import { Level } from 'level'
import { join } from 'node:path'
import { peernet, listen } from '../../lib/index.js'
import transport from '../../lib/transport/index.js'
import { tempDir, removeDir } from './common.mjs'

export function tcpNodes () {
  const dirs = []
  const closers = []
  return {
    async make (listens, opts = {}) {
      const dir = tempDir()
      dirs.push(dir)
      const pn = peernet(new Level(join(dir, 'db')), { transport, interval: 200, dialInterval: 100, connections: 2, purge: 0, ...opts })
      let server = null
      if (listens) {
        server = await listen('tcp', { host: '127.0.0.1' }, (stream, info) => pn.accept(stream, info))
        pn.advertise(server.address)
        pn.url = server.address
      }
      closers.push(async () => { await pn.close(); await server?.close() })
      return pn
    },
    async close () {
      for (const close of closers) await close().catch(() => {})
      for (const d of dirs) removeDir(d)
    }
  }
}
