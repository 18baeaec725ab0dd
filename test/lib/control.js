// A raw NDJSON client of a daemon's control socket, for tests about the socket itself:
// every message in arrival order (msgs), pipelined requests that resolve on their end or
// error row with {rows, error}. Destroyed at teardown when a tap test is given.
import net from 'node:net'

export function controlClient (path, t = null) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path)
    if (t) t.teardown(() => sock.destroy())
    const msgs = []
    const waiting = new Map()
    let buf = ''
    let next = 0
    sock.setEncoding('utf8')
    sock.on('data', d => {
      buf += d
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, i))
        buf = buf.slice(i + 1)
        msgs.push(msg)
        if (msg.end || msg.error) {
          waiting.get(msg.id)?.resolve({ rows: msgs.filter(m => m.id === msg.id && 'row' in m).map(m => m.row), error: msg.error ?? null })
          waiting.delete(msg.id)
        }
      }
    })
    sock.on('close', () => {
      for (const w of waiting.values()) w.reject(new Error('the control connection closed'))
      waiting.clear()
    })
    sock.on('error', () => {})
    sock.once('error', reject)
    sock.once('connect', () => resolve({
      sock,
      msgs,
      /** Send a request without waiting; returns its id. */
      send (method, params = {}, id = `r${++next}`) {
        sock.write(JSON.stringify({ id, method, params }) + '\n')
        return id
      },
      request (method, params = {}) {
        const id = `r${++next}`
        return new Promise((resolve, reject) => {
          waiting.set(id, { resolve, reject })
          sock.write(JSON.stringify({ id, method, params }) + '\n')
        })
      }
    }))
  })
}
