// Helpers for the address table's tests: tables whose invariants (AddressTable.check) are
// checked when the test ends, and a database wrapper that records every batch written to it.
import { AddressTable, seededRandom } from '../../lib/index.js'

/**
 * Open a table on db with the given clock. At teardown (before the db closes: teardowns run
 * last-registered first) its invariants are checked, then it is closed. A test that closes the
 * db itself checks first with checkAndClose.
 */
export async function openTable (t, db, clock, opts = {}) {
  const table = await AddressTable.open(db, { size: 100, random: seededRandom(1), now: clock, ...opts })
  t.teardown(async () => {
    try {
      if (db.status === 'open') await table.check()
    } finally {
      await table.close()
    }
  })
  return table
}

/** Check a table's invariants (throws the first broken one), then close it. */
export async function checkAndClose (table) {
  await table.check()
  await table.close()
}

/**
 * db (a level) wrapped so each batch() call is logged as {ops, sync, done}: ops as
 * 'put addr!<key>' strings, sync the option it was given, done set once the batch is on disk.
 */
export function recording (db) {
  const log = []
  const names = new Map()
  const wrapped = new Proxy(db, {
    get (target, prop) {
      if (prop === 'sublevel') {
        return (name, opts) => {
          const sub = target.sublevel(name, opts)
          names.set(sub, name)
          return sub
        }
      }
      if (prop === 'batch') {
        return arrayBatches(async (ops, opts) => {
          const entry = { ops: ops.map(o => `${o.type} ${names.get(o.sublevel) ?? '?'}!${o.key}`), sync: opts?.sync === true, done: false }
          log.push(entry)
          await target.batch(ops, opts)
          entry.done = true
        })
      }
      const v = Reflect.get(target, prop, target)
      return typeof v === 'function' ? v.bind(target) : v
    }
  })
  return { db: wrapped, log }
}

/**
 * A db's batch() for a wrapper that watches or holds writes: array batches go to batch(ops, opts)
 * as they are, and a chained batch (the table's write queue uses those) gathers its ops and goes
 * there as one array when written.
 */
export function arrayBatches (batch) {
  return (ops, opts) => {
    if (ops !== undefined) return batch(ops, opts)
    const gathered = []
    return {
      put: (key, value, o) => { gathered.push({ type: 'put', sublevel: o?.sublevel, key, value }) },
      del: (key, o) => { gathered.push({ type: 'del', sublevel: o?.sublevel, key }) },
      write: o => batch(gathered, o),
      close: async () => {}
    }
  }
}
