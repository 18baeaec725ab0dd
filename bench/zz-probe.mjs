import net from 'node:net'
import { generateKeyPair } from '../lib/index.js'
import { noiseLayer } from '../lib/node/secure.js'
const sk = generateKeyPair(), ck = generateKeyPair()
const s = net.createServer(sock => { sock.setNoDelay(true); const l = noiseLayer(sock, false, sk); l.on('data', d => l.write(d)); l.on('error', () => {}) })
await new Promise(r => s.listen(0, '127.0.0.1', r))
for (let i = 0; i < 8; i++) {
  const t0 = performance.now()
  const sock = net.connect({ host: '127.0.0.1', port: s.address().port, noDelay: true })
  const marks = []
  sock.on('connect', () => marks.push(['tcp', performance.now() - t0]))
  const l = noiseLayer(sock, true, ck)
  l.on('handshake', () => marks.push(['hs', performance.now() - t0]))
  l.on('connect', () => marks.push(['open', performance.now() - t0]))
  await new Promise(r => { l.once('data', r); l.write(Buffer.from('hi')) })
  marks.push(['echo', performance.now() - t0])
  console.log(marks.map(([k, v]) => `${k}=${v.toFixed(2)}`).join(' '))
  l.destroy()
}
s.close()
