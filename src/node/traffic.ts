// What this node's links carried, by message type and direction: frames and bytes (each
// frame's own, header included). Counted by every Connection of the node as it sends and
// receives; read by whoever reports it (the daemon's metrics). Types are the protocol's own
// (validated before they are counted), so the set of keys stays small.

export interface TypeCount { frames: number, bytes: number }

export class Traffic {
  readonly in = new Map<string, TypeCount>()
  readonly out = new Map<string, TypeCount>()

  note (dir: 'in' | 'out', type: string, bytes: number): void {
    const m = dir === 'in' ? this.in : this.out
    const c = m.get(type)
    if (c === undefined) m.set(type, { frames: 1, bytes })
    else {
      c.frames++
      c.bytes += bytes
    }
  }
}
