// Node's pool for small buffers, sized for the simulation. Every frame a node sends is a
// Buffer.allocUnsafe, carved from a shared slab while it is under half the slab's size; each new
// slab is an ArrayBuffer outside the heap, tens of µs on a heap of gigabytes (a 10,000-node run
// writes ~3 GB of frames: ~370,000 slabs of Node's 8 KB). A slab lives as long as any frame cut
// from it, and a frame lives for one step of the clock, so larger slabs hold little more.
// Set for the running thread (each has its own Buffer); a node outside the simulation keeps
// Node's default.

/** The simulation's slab, bytes: frames under half of it (32 KB, most of them) come from one. */
export const SIM_BUFFER_POOL = 64 * 1024

export function poolBuffers (): void {
  Buffer.poolSize = SIM_BUFFER_POOL
}
