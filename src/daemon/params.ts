// Checks of a request's params: each returns the value, or throws EINVAL naming the bad key.
import { MAX_ITEMS_PER_REQUEST } from '../control/protocol.js'
import { ControlError } from './control.js'

export type Params = Record<string, unknown>

export function str (params: Params, key: string): string {
  const v = params[key]
  if (typeof v !== 'string') throw new ControlError('EINVAL', `params.${key} must be a string`)
  return v
}

export function list (params: Params, key: string): string[] {
  const v = params[key]
  if (!Array.isArray(v) || v.length === 0 || !v.every(x => typeof x === 'string')) throw new ControlError('EINVAL', `params.${key} must be a non-empty list of strings`)
  if (v.length > MAX_ITEMS_PER_REQUEST) throw new ControlError('EINVAL', `params.${key} holds more than ${MAX_ITEMS_PER_REQUEST} items (MAX_ITEMS_PER_REQUEST)`)
  return v as string[]
}

export function optInt (params: Params, key: string, min: number, max: number): number | undefined {
  const v = params[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ControlError('EINVAL', `params.${key} must be a whole number in ${min}..${max}`)
  return v
}

export function optBool (params: Params, key: string): boolean | undefined {
  const v = params[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw new ControlError('EINVAL', `params.${key} must be true or false`)
  return v
}

/** Turn a plain Error from the library (a bad address, a bad subnet name) into a client error. */
export function invalid<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw new ControlError('EINVAL', (err as Error).message)
  }
}
