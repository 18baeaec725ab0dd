// The address records in memory, and the indexes over them that let eviction, dialing and gossip
// pick addresses at random in O(1). Pure bookkeeping: no database, no clock, no rules.
import type { AddressRecord } from './rules.js'
import { IndexedSet } from './indexed-set.js'

/**
 * The dial group an address is drawn from (see AddressTable.dialCandidates): the user's
 * addresses are one group, a learned address goes with its source group, else its informant.
 */
export function dialGroup (r: AddressRecord): string {
  if (r.user) return 'saved'
  return r.sources.find(s => s.startsWith('group:')) ?? r.sources.find(s => s.startsWith('id:')) ?? 'unknown'
}

export class AddressIndex {
  readonly records = new Map<string, AddressRecord>()
  readonly all = new IndexedSet<string>()
  /** The gossip-learned addresses (not user-saved): what the size bound counts. */
  readonly learned = new IndexedSet<string>()
  /** Learned addresses by each of their sources (informant, source group), for the share caps. */
  readonly bySource = new Map<string, IndexedSet<string>>()
  /** Addresses by dial group, and the groups themselves, for dialCandidates. */
  readonly byDialGroup = new Map<string, IndexedSet<string>>()
  readonly dialGroups = new IndexedSet<string>()
  /** How many records are user-saved. */
  saved = 0

  add (r: AddressRecord): void {
    this.records.set(r.address, r)
    this.all.add(r.address)
    const g = dialGroup(r)
    let members = this.byDialGroup.get(g)
    if (!members) {
      this.byDialGroup.set(g, members = new IndexedSet())
      this.dialGroups.add(g)
    }
    members.add(r.address)
    if (r.user) {
      this.saved++
      return
    }
    this.learned.add(r.address)
    for (const s of r.sources) {
      let set = this.bySource.get(s)
      if (!set) this.bySource.set(s, set = new IndexedSet())
      set.add(r.address)
    }
  }

  /** Take r out; call it before changing what r is indexed by (user, sources). */
  delete (r: AddressRecord): void {
    this.records.delete(r.address)
    this.all.delete(r.address)
    const g = dialGroup(r)
    const members = this.byDialGroup.get(g)
    if (members) {
      members.delete(r.address)
      if (members.size === 0) {
        this.byDialGroup.delete(g)
        this.dialGroups.delete(g)
      }
    }
    if (r.user) {
      this.saved--
      return
    }
    this.learned.delete(r.address)
    for (const s of r.sources) {
      const set = this.bySource.get(s)
      if (!set) continue
      set.delete(r.address)
      if (set.size === 0) this.bySource.delete(s)
    }
  }

  /**
   * The first way the indexes disagree with the records or with each other, as a sentence, or
   * null when they agree (see AddressTable.check). O(records × sources): for tests and debugging.
   */
  problem (): string | null {
    for (const [name, set] of this.sets()) if (!set.consistent()) return `the ${name} set's array and position map disagree`
    let saved = 0
    for (const [a, r] of this.records) {
      if (r.address !== a) return `the record under ${a} is for ${r.address}`
      if (!this.all.has(a)) return `${a} is in records but not in all`
      if (r.user) saved++
      if (this.learned.has(a) === r.user) return `${a} is ${r.user ? 'user-saved but in' : 'learned but not in'} learned`
      if (r.user && r.sources.length > 0) return `${a} is user-saved but names sources`
      if (new Set(r.sources).size !== r.sources.length) return `${a} names a source twice`
      for (const s of r.sources) if (!this.bySource.get(s)?.has(a)) return `${a} is missing from bySource ${s}`
      if (!this.byDialGroup.get(dialGroup(r))?.has(a)) return `${a} is missing from byDialGroup ${dialGroup(r)}`
    }
    if (this.all.size !== this.records.size) return `all holds ${this.all.size} addresses but records ${this.records.size}`
    if (saved !== this.saved) return `the saved count is ${this.saved} but ${saved} records are user-saved`
    if (this.learned.size + saved !== this.records.size) return `learned (${this.learned.size}) + saved (${saved}) is not the ${this.records.size} records`
    for (const [s, set] of this.bySource) {
      if (set.size === 0) return `bySource ${s} is empty but kept`
      for (const a of set.values()) {
        if (!this.records.get(a)?.sources.includes(s)) return `bySource ${s} holds ${a}, which does not name it`
      }
    }
    for (const [g, set] of this.byDialGroup) {
      if (set.size === 0) return `byDialGroup ${g} is empty but kept`
      if (!this.dialGroups.has(g)) return `byDialGroup ${g} is missing from dialGroups`
      for (const a of set.values()) {
        const r = this.records.get(a)
        if (r === undefined || dialGroup(r) !== g) return `byDialGroup ${g} holds ${a}, which is not in that group`
      }
    }
    if (this.dialGroups.size !== this.byDialGroup.size) return `dialGroups holds ${this.dialGroups.size} groups but byDialGroup ${this.byDialGroup.size}`
    return null
  }

  private * sets (): Generator<[string, IndexedSet<string>]> {
    yield ['all', this.all]
    yield ['learned', this.learned]
    yield ['dialGroups', this.dialGroups]
    for (const [s, set] of this.bySource) yield [`bySource ${s}`, set]
    for (const [g, set] of this.byDialGroup) yield [`byDialGroup ${g}`, set]
  }
}
