// How the node's callback-or-promise methods report their outcome.

export type Callback<T> = (err: Error | null, value?: T) => void

/** Run a promise, and hand its outcome to a node-style callback too when one is given. */
export function settle<T> (p: Promise<T>, cb?: Callback<T>): Promise<T> {
  if (typeof cb === 'function') p.then(v => cb(null, v), (err: Error) => cb(err))
  return p
}
