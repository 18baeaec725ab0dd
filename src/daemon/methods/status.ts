// status: the daemon at a glance, with the settings in force and every bound next to its use;
// clear-warnings: forget the warnings status shows (after showing them once more).
import { MAX_INBOUND, MAX_PENDING_DIALS, MAX_SEARCHES, MAX_SEEN, MAX_SEEN_PER_PEER, SEEN_TTL, PING_INTERVAL, PING_TIMEOUT, MAX_HANDSHAKING, RELAY_RATE } from '../../node/node.js'
import { PEER_RATE, PEER_BURST, QUERY_RATE, MAX_STRIKES } from '../../node/connection.js'
import { MAX_CLIENTS, MAX_LINE, LOG_BUFFER, MAX_INBOX, type StatusRow, type ClearedRow } from '../../control/protocol.js'
import { MAX_SAVED } from '../../table/rules.js'
import { MAX_SERVICES } from '../services.js'
import { single, none, type DaemonContext } from './method.js'

function settingsInForce (ctx: DaemonContext): Record<string, unknown> {
  const o = ctx.node.options
  return {
    network: o.network,
    connections: o.connections,
    interval: o.interval,
    purge: o.purge,
    'table-size': ctx.node.limits().tableSize,
    hops: o.hops,
    bootstrap: (ctx.settings.bootstrap as string[] | undefined) ?? [],
    advertise: (ctx.settings.advertise as string[] | undefined) ?? []
  }
}

export function statusRow (ctx: DaemonContext): StatusRow {
  const s = ctx.node.status()
  const table = ctx.node.limits()
  return {
    id: s.id,
    pid: process.pid,
    version: ctx.version,
    uptime: Date.now() - ctx.startedAt,
    datadir: ctx.paths.datadir,
    socket: ctx.paths.socket,
    network: s.network,
    ring: s.ring,
    known: s.known,
    saved: s.saved,
    learned: s.learned,
    tombstones: s.tombstones,
    connections: s.connections,
    subnets: s.subnets,
    servers: ctx.services.size,
    failedServers: ctx.services.failedCount,
    warnings: ctx.warnings.list(),
    searches: s.searches,
    addresses: s.addresses,
    settings: settingsInForce(ctx),
    // Each cap next to what is in use now, so `status` shows how close the daemon is.
    limits: {
      tableSize: table.tableSize,
      sourceCap: table.sourceCap,
      maxSaved: MAX_SAVED,
      outbound: s.outbound,
      maxOutbound: ctx.node.options.connections,
      inbound: s.inbound,
      maxInbound: MAX_INBOUND,
      handshaking: s.handshaking,
      maxHandshaking: MAX_HANDSHAKING,
      pendingDials: s.dialing,
      maxPendingDials: MAX_PENDING_DIALS,
      searches: s.searches,
      maxSearches: MAX_SEARCHES,
      seen: s.seen,
      maxSeen: MAX_SEEN,
      maxSeenPerPeer: MAX_SEEN_PER_PEER,
      seenTtl: SEEN_TTL,
      pingInterval: PING_INTERVAL,
      pingTimeout: PING_TIMEOUT,
      peerRate: PEER_RATE,
      peerBurst: PEER_BURST,
      queryRate: QUERY_RATE,
      relayRate: RELAY_RATE,
      maxStrikes: MAX_STRIKES,
      services: ctx.services.size,
      maxServices: MAX_SERVICES,
      maxControlClients: MAX_CLIENTS,
      controlClients: ctx.controlClients(),
      maxLineBytes: MAX_LINE,
      logBuffer: LOG_BUFFER,
      logFollowers: ctx.log.followers,
      inbox: ctx.inbox.size,
      maxInbox: MAX_INBOX,
      inboxReaders: ctx.inbox.readerCount
    }
  }
}

export const status = single('status', none, async (ctx): Promise<StatusRow> => statusRow(ctx))

export const clearWarnings = single('clear-warnings', none, async (ctx): Promise<ClearedRow> => ({ cleared: await ctx.warnings.clear() }))
