// The daemon's API: every method of the control socket, by name. The files beside this one
// hold them by concern; METHODS in control/protocol.ts names the same set for clients (a test
// holds the two, and the documented error codes, together).
import type { Method } from './method.js'
import { status, clearWarnings } from './status.js'
import { close } from './close.js'
import { id } from './id.js'
import { log } from './log.js'
import { known } from './known.js'
import { connections, connect, introduce, disconnect } from './peers.js'
import { add, rm, stats } from './table.js'
import { join, part, subnets } from './subnets.js'
import { search } from './search.js'
import { listen, unlisten, servers, own } from './services.js'
import { owner, ring } from './ring.js'
import { offer, withdraw, offers, find, reload } from './offers.js'
import { send, messages } from './messages.js'

export type { Method, DaemonContext } from './method.js'

const all: Method[] = [
  status, clearWarnings, id, close, log, known, own, connections, connect, disconnect, add, rm,
  join, part, subnets, search, listen, unlisten, servers, stats, owner, ring, offer, withdraw, offers, find, reload, introduce, send, messages
]

export const METHOD_TABLE: ReadonlyMap<string, Method> = new Map(all.map(m => [m.name, m]))
