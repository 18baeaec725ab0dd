// The address records in memory (records.ts), and the indexes over them that let eviction,
// dialing and gossip pick addresses at random in O(1). Pure bookkeeping: no database, no clock,
// no rules. Everything is by slot (address-slots.ts); only the learned addresses, which the table's
// bound keeps few, are indexed by source and dial group too.
import type { AddressRecord } from './rules.js'
import { IndexedSet } from './indexed-set.js'
import { Records } from './records.js'
import { SlotOrder, type SlotSet } from './order.js'

/** The dial group of every user-saved address. */
export const SAVED_GROUP = 'saved'
/** How a source group's name starts (an informant's starts with 'id:'). */
export const GROUP_PREFIX = 'group:'

/**
 * The dial group an address is drawn from (see AddressTable.dialCandidates): the user's
 * addresses are one group, a learned address goes with its source group, else its informant.
 */
export function dialGroup (r: { user: boolean, sources: readonly string[] }): string {
  return r.user ? SAVED_GROUP : sourceGroup(r.sources)
}

/**
 * A learned address's dial group from its sources: the first source group, else the first
 * informant. One pass, no closures: it runs on every learn and every eviction.
 */
export function sourceGroup (sources: readonly string[]): string {
  let informant: string | undefined
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i]
    if (s.startsWith(GROUP_PREFIX)) return s
    if (informant === undefined && s.startsWith('id:')) informant = s
  }
  return informant ?? 'unknown'
}

export class AddressIndex {
  readonly records: Records
  /** Saved slots, then learned ones: `learned` is what the size bound counts. */
  readonly order = new SlotOrder()
  /**
   * Learned slots by each of their sources, for the share caps: under every informant, and
   * under its source group (sourceGroup: the first it names; a record naming two is kept under
   * the first alone). So a source group's set here is also its dial group's members.
   */
  readonly bySource = new Map<string, IndexedSet<number>>()
  /**
   * Learned slots by dial group, for the dial groups that are not a source group (an informant
   * named with no group, or none); every dial group (the saved one too) is in dialGroups, for
   * dialCandidates. A set per source group twice over was a third of a table's sets.
   */
  readonly byDialGroup = new Map<string, IndexedSet<number>>()
  readonly dialGroups = new IndexedSet<string>()
  /** By source list number (see groupOf): the list a group was found for, and the group. */
  private readonly groupLists: Array<readonly string[]> = []
  private readonly groups: string[] = []

  /** Room for `slots` records before the columns grow (see Records). */
  constructor (slots = 64) {
    this.records = new Records(slots)
  }

  get size (): number { return this.records.size }
  get learned (): SlotSet { return this.order.learned }
  get saved (): number { return this.order.saved.size }
  get all (): SlotSet { return this.order.all }

  /** The slot of address, or -1. */
  slotOf (address: string): number { return this.records.slotOf(address) }

  /** The slots of dial group g. */
  members (g: string): SlotSet | undefined {
    if (g === SAVED_GROUP) return this.order.saved
    return (g.startsWith(GROUP_PREFIX) ? this.bySource : this.byDialGroup).get(g)
  }

  /** Add r (its address not here yet); returns its slot. */
  add (r: AddressRecord): number {
    const slot = this.records.add(r)
    this.order.add(slot, r.user)
    if (r.user) {
      if (this.order.saved.size === 1) this.dialGroups.add(SAVED_GROUP)
      return slot
    }
    const sources = this.records.sourcesOf(slot)
    const g = this.groupOf(slot)
    const shared = g.startsWith(GROUP_PREFIX)
    // A new slot is in no set yet (delete took it out of all): no look for it first. (A source
    // named twice, as only a damaged row could, is added once, as add() would.)
    if (!shared) {
      let members = this.byDialGroup.get(g)
      if (!members) {
        this.byDialGroup.set(g, members = new IndexedSet())
        this.dialGroups.add(g)
      }
      members.addNew(slot)
    }
    for (let i = 0; i < sources.length; i++) {
      const s = sources[i]
      if (sources.indexOf(s) !== i || !indexedUnder(s, g)) continue
      let set = this.bySource.get(s)
      if (!set) {
        this.bySource.set(s, set = new IndexedSet())
        if (shared && s === g) this.dialGroups.add(g)
      }
      set.addNew(slot)
    }
    return slot
  }

  /** Take slot out; call it before changing what its record is indexed by (user, sources). */
  delete (slot: number): void {
    const user = this.records.isUser(slot)
    const sources = this.records.sourcesOf(slot)
    this.order.delete(slot, user)
    if (user) {
      if (this.order.saved.size === 0) this.dialGroups.delete(SAVED_GROUP)
    } else {
      const g = this.groupOf(slot)
      const shared = g.startsWith(GROUP_PREFIX)
      const members = shared ? undefined : this.byDialGroup.get(g)
      if (members) {
        members.delete(slot)
        if (members.size === 0) {
          this.byDialGroup.delete(g)
          this.dialGroups.delete(g)
        }
      }
      for (const s of sources) {
        const set = indexedUnder(s, g) ? this.bySource.get(s) : undefined
        if (!set) continue
        set.delete(slot)
        if (set.size === 0) {
          this.bySource.delete(s)
          if (shared && s === g) this.dialGroups.delete(g)
        }
      }
    }
    this.records.delete(slot)
  }

  /**
   * The dial group of the learned record in slot, kept by its source list's number in the pool:
   * every learn and every eviction asks, and a table holds few distinct lists. The pool's lists
   * are frozen, and one number's list is a new object once reused, so the list kept beside the
   * group tells whether the group is still its own.
   */
  private groupOf (slot: number): string {
    const id = this.records.sourcesIdOf(slot)
    const list = this.records.lists.get(id)
    if (this.groupLists[id] !== list) {
      this.groupLists[id] = list
      this.groups[id] = sourceGroup(list)
    }
    return this.groups[id]
  }

  /**
   * The first way the indexes disagree with the records or with each other, as a sentence, or
   * null when they agree (see AddressTable.check). O(records × sources): for tests and debugging.
   */
  problem (): string | null {
    const columns = this.records.problem()
    if (columns !== null) return columns
    for (const [name, set] of this.sets()) if (!set.consistent()) return `the ${name} set holds an item twice, or its position map is off`
    let saved = 0
    for (const slot of this.records.slots()) {
      const a = this.records.address(slot)
      const user = this.records.isUser(slot)
      const sources = this.records.sourcesOf(slot)
      if (user) saved++
      if (!this.order.holds(slot, user)) return `${a} is ${user ? 'user-saved but not in the saved' : 'learned but not in the learned'} part of the order`
      if (user && sources.length > 0) return `${a} is user-saved but names sources`
      if (new Set(sources).size !== sources.length) return `${a} names a source twice`
      if (user) continue
      const g = dialGroup({ user, sources })
      for (const s of sources) if (indexedUnder(s, g) && !this.bySource.get(s)?.has(slot)) return `${a} is missing from bySource ${s}`
      if (!g.startsWith(GROUP_PREFIX) && !this.byDialGroup.get(g)?.has(slot)) return `${a} is missing from byDialGroup ${g}`
    }
    if (saved !== this.saved) return `the saved part of the order holds ${this.saved} slots but ${saved} records are user-saved`
    if (this.all.size !== this.size) return `the order holds ${this.all.size} slots but there are ${this.size} records`
    let sourceGroups = 0
    for (const [s, set] of this.bySource) {
      if (set.size === 0) return `bySource ${s} is empty but kept`
      for (const slot of set.values()) {
        if (!this.order.holds(slot, false) || !this.records.sourcesOf(slot).includes(s)) return `bySource ${s} holds ${this.name(slot)}, which does not name it`
        if (!indexedUnder(s, sourceGroup(this.records.sourcesOf(slot)))) return `bySource ${s} holds ${this.name(slot)}, which names another source group first`
      }
      if (!s.startsWith(GROUP_PREFIX)) continue
      sourceGroups++
      if (!this.dialGroups.has(s)) return `source group ${s} is missing from dialGroups`
    }
    for (const [g, set] of this.byDialGroup) {
      if (g.startsWith(GROUP_PREFIX)) return `byDialGroup ${g} is kept apart from bySource's set for that source group`
      if (set.size === 0) return `byDialGroup ${g} is empty but kept`
      if (!this.dialGroups.has(g)) return `byDialGroup ${g} is missing from dialGroups`
      for (const slot of set.values()) {
        const user = this.records.isUser(slot)
        if (!this.order.holds(slot, user) || dialGroup({ user, sources: this.records.sourcesOf(slot) }) !== g) return `byDialGroup ${g} holds ${this.name(slot)}, which is not in that group`
      }
    }
    if (this.dialGroups.has(SAVED_GROUP) !== (saved > 0)) return `dialGroups ${saved > 0 ? 'lacks' : 'holds'} the saved group, with ${saved} saved addresses`
    const groups = this.byDialGroup.size + sourceGroups + (saved > 0 ? 1 : 0)
    if (this.dialGroups.size !== groups) return `dialGroups holds ${this.dialGroups.size} groups but there are ${groups}`
    return null
  }

  /** A slot's address, or what it is when no record is in it (for problem()'s sentences). */
  private name (slot: number): string {
    return this.order.holds(slot, true) || this.order.holds(slot, false) ? this.records.address(slot) : `slot ${slot} (no record)`
  }

  private * sets (): Generator<[string, IndexedSet<number> | IndexedSet<string>]> {
    yield ['dialGroups', this.dialGroups]
    for (const [s, set] of this.bySource) yield [`bySource ${s}`, set]
    for (const [g, set] of this.byDialGroup) yield [`byDialGroup ${g}`, set]
  }
}

/**
 * Whether a learned record whose dial group is g is kept under its source s in bySource: every
 * informant, and of the source groups only g (its first: see bySource).
 */
function indexedUnder (s: string, g: string): boolean {
  return s === g || !s.startsWith(GROUP_PREFIX)
}
