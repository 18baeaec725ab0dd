// DATADIR/services.json: the services this node offers, in peer-up's own format
// ({"services": [{"name", "version", "url"}]}, so a peer-up user's my-services.json can be copied
// in as it is; `meta` may be added to an entry). Read at start and on `peernet reload` / SIGHUP.
// The set is handed to the node only when the file's text changed: a `withdraw` of one of its
// entries lasts until then. A file that is not right changes nothing: the node keeps the set
// it had, and the error names the file, the entry and the field.
import { readFileSync } from 'node:fs'
import { offerProblem, MAX_OFFERS, type Offer } from '../wire/record.js'

/** Largest services.json read, in bytes: MAX_OFFERS entries of the largest size fit with room to spare. */
export const MAX_SERVICE_FILE = 1024 * 1024

/** The offers in a services file's text, or a TypeError whose message is one line naming path, entry and field. */
export function parseServiceFile (text: string, path: string): Offer[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new TypeError(`${path} is not valid JSON: ${(err as Error).message}`)
  }
  const list = (doc as { services?: unknown } | null)?.services
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || !Array.isArray(list)) {
    throw new TypeError(`${path}: expected {"services": [{"name": …, "version": …, "url": …}, …]}`)
  }
  if (list.length > MAX_OFFERS) throw new TypeError(`${path}: ${list.length} services, over MAX_OFFERS (${MAX_OFFERS})`)
  return list.map((entry: unknown, i: number) => {
    const why = offerProblem(entry)
    if (why === null) return entry as Offer
    const name = typeof (entry as { name?: unknown } | null)?.name === 'string' ? ` (${JSON.stringify((entry as { name: string }).name.slice(0, 64))})` : ''
    throw new TypeError(`${path}: services[${i}]${name}: ${why}`)
  })
}

export type Reload =
  | { changed: false, services: number }
  | { changed: true, services: number, left: Offer[] }

export class ServiceFile {
  /** The text last handed over (null: no file, or none read yet). */
  private last: string | null = null
  private count = 0

  constructor (readonly path: string, private readonly apply: (list: Offer[]) => Offer[]) {}

  /**
   * Read the file; hand its services over when its text changed (a missing file is an empty
   * set). Throws a one-line TypeError and changes nothing when the file is not right.
   */
  reload (): Reload {
    let text = ''
    try {
      const buf = readFileSync(this.path)
      if (buf.length > MAX_SERVICE_FILE) throw new TypeError(`${this.path} is over ${MAX_SERVICE_FILE} bytes (MAX_SERVICE_FILE)`)
      text = buf.toString('utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw err instanceof TypeError ? err : new TypeError(`cannot read ${this.path}: ${(err as Error).message}`)
      }
    }
    if (text === (this.last ?? '')) return { changed: false, services: this.count }
    const list = text === '' ? [] : parseServiceFile(text, this.path)
    const left = this.apply(list)
    this.last = text
    this.count = list.length - left.length
    return { changed: true, services: this.count, left }
  }
}
