// Before a daemon runs: its settings (config.json overlaid by flags), its data dir and its
// database, each failure as one sentence that says what to do.
import { readFileSync } from 'node:fs'
import { Level } from 'level'
import type { Paths } from '../control/paths.js'
import { checkSettings } from '../control/settings.js'
import { prepareDatadir } from '../control/dirs.js'
import { recoveryLoss } from './db-check.js'

/** Settings in force: config.json overlaid by flags. Throws a sentence naming a bad key. */
export function loadSettings (paths: Paths, flags: Record<string, unknown>): Record<string, unknown> {
  let fromFile: Record<string, unknown> = {}
  let raw: string | null = null
  try {
    raw = readFileSync(paths.config, 'utf8')
  } catch {}
  if (raw !== null) {
    let parsed: unknown
    try {
      parsed = JSON.parse(raw)
    } catch (err) {
      throw new Error(`${paths.config} is not valid JSON: ${(err as Error).message}`)
    }
    fromFile = checkSettings(parsed, paths.config)
  }
  return { ...fromFile, ...checkSettings(flags, 'flags') }
}

/**
 * Make the data dir and open the database in it. `loss` says what LevelDB's recovery dropped
 * at this open (a damaged log), or is null.
 */
export async function openDatabase (paths: Paths): Promise<{ db: Level<string, unknown>, loss: string | null }> {
  prepareDatadir(paths.datadir)
  const db = new Level<string, unknown>(paths.db)
  try {
    await db.open()
  } catch (err) {
    throw explainOpenError(err as Error & { code?: string, cause?: Error & { code?: string } }, paths)
  }
  return { db, loss: recoveryLoss(paths.db) }
}

/** LevelDB's open errors, as sentences a user can act on. */
function explainOpenError (err: Error & { code?: string, cause?: Error & { code?: string } }, paths: Paths): Error {
  const code = err.cause?.code ?? err.code
  if (code === 'LEVEL_LOCKED') {
    let pid = ''
    try {
      pid = readFileSync(paths.pidfile, 'utf8').trim()
    } catch {}
    return new Error(`another peernet daemon${pid ? ` (pid ${pid})` : ''} is using ${paths.datadir}; stop it with \`peernet close\``)
  }
  const text = err.cause?.message ?? err.message
  // Not damage: the database is fine, we may not touch it. Moving it aside would be bad advice.
  if (/permission denied|operation not permitted/i.test(text)) {
    return new Error(`cannot open the database in ${paths.db}: permission denied (it belongs to another user, or its mode keeps you out)`)
  }
  if (/read-only file system/i.test(text)) return new Error(`cannot open the database in ${paths.db}: it is on a read-only file system`)
  if (/no space left/i.test(text)) return new Error(`cannot open the database in ${paths.db}: no space left on the device`)
  // LevelDB's own text can quote file contents: keep it printable and short.
  const why = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 160)
  return new Error(`the database in ${paths.db} is corrupt or unreadable (${why}); move it aside (mv ${paths.db} ${paths.db}.bad) to start with an empty table`)
}
