// Shared test helpers: temp dirs and databases that are removed when the test ends, even on failure.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'

/** A fresh temp dir, removed at teardown. Kept short (socket paths are limited to ~107 bytes). */
export function tempDir (t, prefix = 'pn-') {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A real LevelDB in a temp dir, closed at teardown. */
export function tempLevel (t, dir = tempDir(t)) {
  const db = new Level(join(dir, 'db'))
  t.teardown(() => db.close().catch(() => {}))
  return db
}

/** Poll fn until it returns a truthy value (no fixed sleeps); rejects after `ms`. */
export async function until (fn, { ms = 10000, every = 10, what = 'condition' } = {}) {
  const start = Date.now()
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, every))
  }
}

/** Wait for an event on an emitter, with an optional filter. */
export function once (emitter, name, filter = () => true, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { emitter.off(name, on); reject(new Error(`timed out waiting for '${name}'`)) }, ms)
    function on (v) {
      if (!filter(v)) return
      clearTimeout(timer)
      emitter.off(name, on)
      resolve(v)
    }
    emitter.on(name, on)
  })
}

/** Collect an object stream (or async iterable) into an array. */
export async function collect (stream) {
  const out = []
  for await (const row of stream) out.push(row)
  return out
}

/** Read exactly n bytes from a stream (rejects on error or an early end). */
export function readBytes (stream, n) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let got = 0
    const done = (err, v) => {
      stream.off('data', onData); stream.off('error', onError); stream.off('end', onEnd); stream.off('close', onEnd)
      if (err) reject(err)
      else resolve(v)
    }
    function onData (c) {
      chunks.push(c)
      got += c.length
      if (got >= n) done(null, Buffer.concat(chunks))
    }
    function onError (err) { done(err) }
    function onEnd () { done(new Error(`stream ended after ${got} of ${n} bytes`)) }
    stream.on('data', onData)
    stream.on('error', onError)
    stream.on('end', onEnd)
    stream.on('close', onEnd)
  })
}

/** One turn of the event loop: what a step of a virtual clock set off runs before the next. */
export const flush = () => new Promise(resolve => setImmediate(resolve))

/**
 * Advance a virtual clock in steps of ms until done() (or give up after `steps`), letting what
 * each step sets off run; resolves whether done.
 */
export async function runUntil (clock, done, steps = 2000, ms = 50) {
  for (let i = 0; i < steps; i++) {
    if (done()) return true
    clock.advance(ms)
    await flush()
    await flush()
  }
  return done()
}
