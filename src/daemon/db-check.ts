// What LevelDB's recovery threw away. When a write-ahead log is damaged, LevelDB skips the bad
// part, writes "<file>: dropping N bytes; Corruption: …" to its info log (DB/LOG), deletes the
// damaged log on that same open, and rotates LOG to LOG.old at the next: so the only moment to
// learn of the loss is right after the open, from DB/LOG. A log torn at its tail by a crash
// (kill -9 mid-write) is expected and LevelDB logs nothing for it.
import { readFileSync } from 'node:fs'
import { join, basename } from 'node:path'

const DROPPED = /(\S+): dropping (\d+) bytes; (.*)$/

/** The loss the last open of the db in dbDir reported, as a sentence; null when none. */
export function recoveryLoss (dbDir: string): string | null {
  let text: string
  try {
    text = readFileSync(join(dbDir, 'LOG'), 'utf8')
  } catch {
    return null
  }
  let bytes = 0
  const files = new Set<string>()
  const reasons = new Set<string>()
  for (const line of text.split('\n')) {
    const m = DROPPED.exec(line)
    if (m === null) continue
    bytes += Number(m[2])
    files.add(basename(m[1]))
    // LevelDB's own words, kept printable and short.
    reasons.add(m[3].replace(/[^\x20-\x7e]/g, '?').slice(0, 80))
  }
  if (bytes === 0) return null
  const why = [...reasons].slice(0, 3).join('; ')
  return `the database lost data: at start LevelDB dropped ${bytes} damaged bytes of its log (${[...files].join(', ')}: ${why}); ` +
    'addresses, subnets or services written there before the last stop may be gone'
}
