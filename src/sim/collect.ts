// A full garbage collection on demand, for the scenario's `collect` (run once, after the kill).
// V8 offers one only behind --expose-gc: turned on here for the running isolate (thread), whose
// next new context then has `gc`. The flag changes nothing else the simulation does.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export function fullCollection (): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}
