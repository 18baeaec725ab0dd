// AddressTable.check's invariants beyond the indexes' own (AddressIndex.problem): the bounds hold,
// and once every write is flushed LevelDB holds what memory does, so a reopened table is the same.
import { type AddressRecord, asRecord, newRecord, sourceCap, MAX_SAVED, MAX_TOMBSTONES, MAX_RECENT } from './rules.js'
import type { SublevelLike } from './db.js'
import type { AddressIndex } from './indexes.js'

/** The first bound that does not hold, as a sentence, or null. */
export function boundsProblem (index: AddressIndex, capacity: number, share: number, tombstones: number, recent: number): string | null {
  const { learned, saved, bySource } = index
  if (learned.size > capacity) return `${learned.size} learned addresses exceed the capacity ${capacity}`
  if (saved > MAX_SAVED) return `${saved} saved addresses exceed MAX_SAVED (${MAX_SAVED})`
  if (tombstones > MAX_TOMBSTONES) return `${tombstones} tombstones exceed MAX_TOMBSTONES (${MAX_TOMBSTONES})`
  const cap = sourceCap(capacity, share)
  for (const [s, set] of bySource) if (set.size > cap) return `source ${s} accounts for ${set.size} entries, over its cap ${cap}`
  if (recent > MAX_RECENT) return `${recent} recent addresses exceed MAX_RECENT (${MAX_RECENT})`
  return null
}

export interface Sublevels { meta: SublevelLike, addr: SublevelLike, tomb: SublevelLike, subnet: SublevelLike }
export interface InMemory {
  id: string
  version: number
  /** The record of an address, or undefined; and how many there are. */
  record: (address: string) => AddressRecord | undefined
  size: number
  tombs: ReadonlyMap<string, number>
  joined: ReadonlySet<string>
}

/** The first way LevelDB and memory differ, as a sentence, or null. Call it after a flush. */
export async function diskProblem (db: Sublevels, mem: InMemory): Promise<string | null> {
  if (await db.meta.get('id') !== mem.id) return `the node id in LevelDB is not ${mem.id}`
  if (await db.meta.get('version') !== mem.version) return `the schema version in LevelDB is not ${mem.version}`
  let rows = 0
  for await (const [key, value] of db.addr.iterator()) {
    // Rows of the wrong shape are skipped on load too, so they are not part of the table.
    const r = asRecord(key, value)
    if (r === undefined) continue
    rows++
    const m = mem.record(key)
    if (m === undefined) return `${key} is in LevelDB but not in memory`
    if (canonical(m) !== canonical(r)) return `the record of ${key} differs between memory and LevelDB`
  }
  if (rows !== mem.size) return `LevelDB holds ${rows} records but memory ${mem.size}`
  let tombs = 0
  for await (const [key, value] of db.tomb.iterator()) {
    tombs++
    if (mem.tombs.get(key) !== Number(value)) return `the tombstone of ${key} differs between memory and LevelDB`
  }
  if (tombs !== mem.tombs.size) return `LevelDB holds ${tombs} tombstones but memory ${mem.tombs.size}`
  let subnets = 0
  for await (const [key] of db.subnet.iterator()) {
    subnets++
    if (!mem.joined.has(key)) return `subnet ${key} is joined in LevelDB but not in memory`
  }
  if (subnets !== mem.joined.size) return `LevelDB holds ${subnets} joined subnets but memory ${mem.joined.size}`
  return null
}

/** A record's fields as JSON in one order, whatever the order (or other keys) of the object. */
function canonical (r: AddressRecord): string {
  return JSON.stringify(r, FIELDS)
}
const FIELDS = [...Object.keys(newRecord('', 0, false, [])), 'id', 'pin'].sort()
