// Counting the frames searches cause, on every node of this process, from the transport side
// (not a benchmark itself). Every frame a node sends leaves through Connection.prototype.sendFrame
// (a flooded query is encoded once and handed to each link, so it counts once per link), which
// is wrapped here to sort each frame by what caused it:
//   - flood: `query` and `answer` frames (only searches make them: a `--flood` search, or a ring
//     search's fallback);
//   - ring: `ring.lookup` frames whose op is `fetch` (only a search fetches: Records.search),
//     forwards, retries and the asker's check of the owner's claim included, and every
//     `ring.found` that answers one of those lookups (by its qid);
//   - other: everything else (gossip, keepalive, ring upkeep: stabilise, finger and join lookups
//     (op `owner`), publications (op `store`), replica copies), by type.
// A `ring.found` is sent by the responsible node, which never sent the lookup itself: the qids
// of fetches are also noted as they arrive (RingLinks.prototype.receive), so a daemon alone in
// its process sorts its answers right too.
// Frames of searches received (and handled) are counted too, as `received`: a search is over
// once neither count moves, i.e. when its last frames have also been read (a flood's duplicates
// keep the receivers busy after the last relay went out, and would slow the next search).
import { Connection } from '../../lib/node/connection.js'
import { RingLinks } from '../../lib/node/ring.js'
import { Search } from '../../lib/node/search.js'

/** Fetch qids remembered (a lookup's answer comes within LOOKUP_TIMEOUT; searches run one by one here). */
const MAX_QIDS = 10_000
const TYPE = '{"type":"'

export const counts = { flood: 0, ring: 0, other: 0, received: 0, byType: {} }
const fetches = new Set()

function noteFetch (qid) {
  if (fetches.size >= MAX_QIDS) fetches.delete(fetches.values().next().value)
  fetches.add(qid)
}

/** Which of flood / ring / other a frame (4-byte header, then the JSON) counts as. */
export function classify (frame) {
  // Every message is encoded with `type` first: the type is read from the first bytes, and
  // only ring lookups and answers are parsed in full (for their op and qid).
  const head = frame.toString('latin1', 4, 40)
  if (!head.startsWith(TYPE)) return ['other', '?']
  const type = head.slice(TYPE.length, head.indexOf('"', TYPE.length))
  if (type === 'query' || type === 'answer') return ['flood', type]
  if (type === 'ring.lookup') {
    const m = JSON.parse(frame.toString('utf8', 4))
    if (m.op !== 'fetch') return ['other', `ring.lookup.${m.op}`]
    noteFetch(m.qid)
    return ['ring', type]
  }
  if (type === 'ring.found') {
    const m = JSON.parse(frame.toString('utf8', 4))
    return [fetches.has(m.qid) ? 'ring' : 'other', type]
  }
  return ['other', type]
}

let installed = false
/** Start counting (once per process). */
export function install () {
  if (installed) return counts
  installed = true
  const sendFrame = Connection.prototype.sendFrame
  Connection.prototype.sendFrame = function (frame) {
    if (!this.closed) {
      const [kind, type] = classify(frame)
      counts[kind]++
      counts.byType[type] = (counts.byType[type] ?? 0) + 1
    }
    return sendFrame.call(this, frame)
  }
  const receive = RingLinks.prototype.receive
  RingLinks.prototype.receive = function (c, m) {
    if (m.type === 'ring.lookup' && m.op === 'fetch') noteFetch(m.qid)
    if ((m.type === 'ring.lookup' || m.type === 'ring.found') && fetches.has(m.qid)) counts.received++
    return receive.call(this, c, m)
  }
  for (const name of ['onQuery', 'onAnswer']) {
    const handle = Search.prototype[name]
    Search.prototype[name] = function (c, m) {
      counts.received++
      return handle.call(this, c, m)
    }
  }
  return counts
}

/** The search frames counted so far: sent (ring, flood and their sum) and received. */
export function searchFrames () {
  return { ring: counts.ring, flood: counts.flood, all: counts.ring + counts.flood, received: counts.received }
}
