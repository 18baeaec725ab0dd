// The in-memory transport of protocol tests and the simulation: names, dials, ends, and
// back-pressure like a socket's.
import t from 'tap'
import { createMemNetwork, memPair, MEM_LINK_BUFFER } from '../lib/transport/mem.js'
import { AddressError } from '../lib/index.js'
import { once, readBytes } from './lib/helpers.js'

t.test('mem transport', async t => {
  const network = createMemNetwork()
  const accepted = []
  const stop = network.listen('mem://a', (stream, info) => {
    accepted.push({ stream, info })
    stream.pipe(stream)
  })
  t.teardown(stop)
  t.teardown(() => { for (const { stream } of accepted) stream.destroy() })
  t.equal(network.size, 1)

  // Round trip.
  const c = network.dial('mem://a', 'b')
  t.teardown(() => c.destroy())
  await once(c, 'connect')
  c.write('ping')
  t.equal((await readBytes(c, 4)).toString(), 'ping', 'echoed')
  c.write(Buffer.alloc(100000, 7))
  t.ok((await readBytes(c, 100000)).equals(Buffer.alloc(100000, 7)), '100 KB echoed')
  t.equal(accepted.length, 1)
  t.same(accepted[0].info, { host: 'b' }, 'the dialer names itself')

  // The transport() function of the network gives the same.
  const c2 = network.transport('c')('mem://a')
  t.teardown(() => c2.destroy())
  c2.write('x')
  t.equal((await readBytes(c2, 1)).toString(), 'x')
  t.same(accepted[1].info, { host: 'c' })

  // Nobody at the name: ECONNREFUSED.
  const nobody = network.dial('mem://nobody')
  t.teardown(() => nobody.destroy())
  const err = await once(nobody, 'error')
  t.equal(err.code, 'ECONNREFUSED', 'unknown name is refused')

  // Destroying the client ends the server side.
  const srvEnd = accepted[0].stream
  const srvClosed = once(srvEnd, 'close')
  c.destroy()
  await srvClosed
  t.ok(srvEnd.destroyed, 'server end destroyed when the client is')

  // Destroying the server side ends the client.
  const c3 = network.dial('mem://a')
  t.teardown(() => c3.destroy())
  c3.write('y')
  await readBytes(c3, 1)
  const srv3 = accepted[2].stream
  const c3End = once(c3, 'end')
  const c3Closed = once(c3, 'close')
  srv3.destroy()
  await c3End
  await c3Closed
  t.ok(c3.destroyed, 'client end destroyed when the server side is')

  // Ending one side ends the other's readable side.
  const c4 = network.dial('mem://a')
  t.teardown(() => c4.destroy())
  const c4End = once(c4, 'end')
  c4.resume()
  c4.end()
  await c4End
  t.pass('end() is passed through the echo and back')

  // One listener per name; stopping frees it.
  t.throws(() => network.listen('mem://a', () => {}), /already in use/, 'listening twice on a name throws')
  t.throws(() => network.listen('MEM://a', () => {}), /already in use/, 'the normalised name is the same one')
  t.throws(() => network.listen('tcp://127.0.0.1:1', () => {}), /not a mem/, 'a tcp address is not a mem name')
  t.throws(() => network.listen('mem://', () => {}), AddressError)
  t.throws(() => network.dial('mem://bad name'), AddressError)
  stop()
  t.equal(network.size, 0, 'stopped')
  const stop2 = network.listen('mem://a', s => s.destroy())
  t.teardown(stop2)
  t.equal(network.size, 1, 'the name can be taken again')
  // A second network is separate.
  const other = createMemNetwork()
  const lost = other.dial('mem://a')
  t.teardown(() => lost.destroy())
  t.equal((await once(lost, 'error')).code, 'ECONNREFUSED', 'networks do not share names')
})

t.test(`mem transport back-pressure: past MEM_LINK_BUFFER (${MEM_LINK_BUFFER}) bytes unread, writes wait for the reader`, async t => {
  const [a, b] = memPair()
  t.teardown(() => { a.destroy(); b.destroy() })
  const KIB = 1024
  const total = MEM_LINK_BUFFER + 100 * KIB
  const sent = Buffer.alloc(total)
  for (let i = 0; i < total; i++) sent[i] = i % 251
  let refused = 0
  for (let i = 0; i < total; i += KIB) if (!a.write(sent.subarray(i, i + KIB))) refused++
  // b reads nothing yet: let every delivery that can happen happen.
  await new Promise(resolve => setImmediate(resolve))
  t.equal(b.readableLength, MEM_LINK_BUFFER, 'the link holds MEM_LINK_BUFFER bytes unread at the reader')
  t.equal(a.writableLength, total - MEM_LINK_BUFFER, 'the rest waits at the writer, where a node measures MAX_OUTBUF')
  t.ok(refused > 0, `write() said to wait (${refused} times)`)
  const drained = once(a, 'drain')
  const got = readBytes(b, total)
  t.ok((await got).equals(sent), 'once the reader reads, every byte arrives, in order')
  await drained
  t.equal(a.writableLength, 0, 'and the writer drains')
})
