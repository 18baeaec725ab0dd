// How the node's callback-or-promise methods report their outcome, so that a call whose result
// nobody looks at never ends the host process (the seed's code calls `pn.connect(addr)` and
// ignores what it returns):
// - with a callback, the callback gets the outcome; the returned promise settles the same way
//   and never counts as an unhandled rejection;
// - without one, the returned promise is the caller's; if it rejects and nobody ever looked at
//   it (then, catch, finally or await) by the next turn of the event loop, the error goes to
//   the node's `error` event when someone listens, and nowhere else.

export type Callback<T> = (err: Error | null, value?: T) => void

/** A promise that knows whether anyone has looked at it. */
export class Outcome<T> extends Promise<T> {
  observed = false

  // Promises derived from this one (by then, catch, finally) are plain ones.
  static override get [Symbol.species] (): PromiseConstructor { return Promise }

  override then<R1 = T, R2 = never> (
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null
  ): Promise<R1 | R2> {
    // catch, finally and await (this is not a plain Promise, so await calls then) come here.
    this.observed = true
    return super.then(onfulfilled, onrejected)
  }
}

/** The outcome of `work` as a method returns it: see the rules at the top of this file. */
export function settle<T> (work: Promise<T>, cb: Callback<T> | undefined, fail: (err: Error) => void): Promise<T> {
  const out = new Outcome<T>((resolve, reject) => { work.then(resolve, reject) })
  const hasCallback = typeof cb === 'function'
  if (hasCallback) work.then(v => cb(null, v), (err: Error) => cb(err))
  // Our own look at the outcome goes around the override: it must not count as the caller's.
  Promise.prototype.then.call(out, undefined, (err: Error) => {
    if (hasCallback) return
    setImmediate(() => { if (!out.observed) fail(err) })
  })
  return out
}
