// Making the data dir and the socket's dir, one level at a time. Node 20's recursive mkdirSync
// loops forever at 100% CPU where mkdir answers ENOENT under a directory that exists (/proc):
// here every failure is one sentence saying which directory could not be made and why.
import { mkdirSync, statSync, accessSync, constants } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { reason } from './errors.js'

/** Why mkdir(path) failed, as the end of a sentence. */
function mkdirReason (err: NodeJS.ErrnoException, path: string): string {
  const parent = dirname(path)
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return `you may not create directories in ${parent} (permission denied)`
    case 'ENOENT':
      // The parent exists (we just looked): its file system makes no directories (/proc, /sys).
      return `${parent} does not allow new directories`
    case 'EROFS':
      return `${parent} is on a read-only file system`
    default:
      return reason(err)
  }
}

/**
 * mkdir -p for dir, each missing level made with mode. `what` names it in the error ("the data
 * directory"). Throws an Error whose message is one sentence.
 */
export function makeDirs (dir: string, mode: number, what: string): void {
  const target = resolve(dir)
  const fail = (why: string): Error => new Error(`cannot create ${what} ${target}: ${why}`)
  const missing: string[] = []
  let p = target
  for (;;) {
    try {
      if (!statSync(p).isDirectory()) throw fail(`${p === target ? 'it' : p} is a file, not a directory`)
      break
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === undefined) throw err
      if (code === 'ENOENT') missing.push(p)
      else if (code === 'ENOTDIR') missing.length = 0 // a file further up: find it
      else if (code === 'EACCES') throw fail(`you may not look inside ${dirname(p)} (permission denied)`)
      else throw fail(reason(err))
      const up = dirname(p)
      if (up === p) throw fail('no part of the path exists')
      p = up
    }
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m, { mode })
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      // Two starts at once may both make it: a directory that now exists is fine.
      if (e.code === 'EEXIST' && statSync(m, { throwIfNoEntry: false })?.isDirectory() === true) continue
      throw fail(mkdirReason(e, m))
    }
  }
}

/** Throw a sentence unless this process may create files in dir. */
export function checkWritable (dir: string, what: string): void {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'EACCES' || code === 'EPERM'
      ? 'permission denied (it belongs to another user, or its mode keeps you out)'
      : code === 'EROFS' ? 'it is on a read-only file system' : reason(err)
    throw new Error(`cannot write to ${what} ${dir}: ${why}`)
  }
}

/** Make the data dir if needed and check that we may write there (before any daemon starts). */
export function prepareDatadir (datadir: string): void {
  makeDirs(datadir, 0o700, 'the data directory')
  checkWritable(datadir, 'the data directory')
}
