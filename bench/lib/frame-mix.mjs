// peernet's frame mix, as the secure and webrtc benches send it: queries, answers, an addrs
// answer, pings and pongs, each encoded once. Every address is on loopback and never dialed.
import { encodeFrame } from '../../lib/index.js'

const addr = i => `tcp://127.0.${(i >> 8) & 255}.${i & 255}:${20000 + i}`

export const FRAME_MIX = [
  { type: 'query', qid: '0123456789abcdef', subnet: 'chat', hops: 3, limit: 15 },
  { type: 'answer', qid: '0123456789abcdef', subnet: 'chat', address: addr(9), hops: 4 },
  { type: 'ping' },
  { type: 'addrs', addrs: Array.from({ length: 32 }, (_, i) => addr(100 + i)) },
  { type: 'query', qid: 'fedcba9876543210', subnet: 'stun', hops: 2, limit: 15 },
  { type: 'answer', qid: 'fedcba9876543210', subnet: 'stun', address: addr(7), hops: 2 },
  { type: 'getaddrs' },
  { type: 'pong' }
].map(m => encodeFrame(m))
