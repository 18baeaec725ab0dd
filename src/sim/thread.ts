// One thread of a parallel simulation (main.ts starts them; parallel.ts says how they agree).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { simulate, type RunOptions } from './scenario.js'
import { heapGrowth, sharedScavenges } from './collect.js'
import { poolBuffers } from './buffers.js'

interface Data { opts: RunOptions, index: number, count: number, ports: Array<MessagePort | null>, signal: SharedArrayBuffer, progress: boolean }

const d = workerData as Data
const port = parentPort as MessagePort
poolBuffers()
simulate({
  ...d.opts,
  part: { index: d.index, count: d.count, ports: d.ports, signal: new Int32Array(d.signal), young: sharedScavenges() },
  growHeap: heapGrowth(),
  // Every thread makes the same figures: the first one says how it goes.
  progress: d.progress && d.index === 0 ? line => port.postMessage({ progress: line }) : undefined
}).then(result => {
  port.postMessage(d.index === 0 ? { result } : { done: true })
}, (err: Error) => {
  port.postMessage({ error: err.stack ?? err.message })
})
