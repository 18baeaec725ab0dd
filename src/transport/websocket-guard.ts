import type { Duplex } from 'node:stream'

interface HeardSocket { removeAllListeners: (event: string) => unknown }

/**
 * websocket-stream hands each message its socket hears to an inner stream. When its own stream
 * was destroyed first (a dial given up before the socket opened; an inbound stream dropped by a
 * closing node), it destroys that inner stream at open with no error listener on it, and a
 * message still on its way before the socket has closed is "stream.push() after EOF", thrown
 * uncaught: a daemon would die of a peer's timing. Nothing the socket hears after the stream has
 * closed is wanted, so from then on it is not heard. (websocket-stream sets `stream.socket`.)
 */
export function deafOnceClosed<T extends Duplex> (stream: T): T {
  const socket = (stream as unknown as { socket?: HeardSocket }).socket
  if (socket) stream.once('close', () => socket.removeAllListeners('message'))
  return stream
}
