// Whether two lists of strings are equal, item by item: the table's lists of sources, the ring's
// lists of ids. One loop, no join: both are compared on every message of their kind.

/** Whether a and b hold the same strings in the same order (true at once for the same list). */
export function sameList (a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
