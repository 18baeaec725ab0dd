// Whether two lists of strings are equal, item by item: the table's lists of sources, the ring's
// lists of ids. One loop, no join: both are compared on every message of their kind.

/** Whether a and b hold the same strings in the same order (true at once for the same list). */
export function sameList (a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Whether a and b agree on their first n items (a list shorter than n has nothing past its end). */
export function samePrefix (a: readonly string[], b: readonly string[], n: number): boolean {
  if (a === b) return true
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return false
    if (i >= a.length) return true
  }
  return true
}
