// `known` rows as JSON text made from the stored text of their records. Listing a large table,
// parsing each whole record (a dozen fields) only to write three of them again was most of
// what the daemon spent; a record as the table writes it holds those three as text that can
// be copied. Anything else is parsed as before, so the answer is the same either way.
import { asRecord, knownId, type AddressRecord } from './rules.js'

/**
 * The row `known` lists for a record (the library's known() rows, the daemon's answer); `id`
 * where one is known (the user gave it, or a handshake proved it; a peer's hint is not).
 */
export interface KnownRecordRow { address: string, saved: boolean, subnets: string[], id?: string }

export function knownRow (r: AddressRecord): KnownRecordRow {
  const id = knownId(r)
  return id === null ? { address: r.address, saved: r.user, subnets: r.subnets } : { address: r.address, saved: r.user, subnets: r.subnets, id }
}

/** A JSON string with nothing escaped in it: its text between the quotes is its value. */
const PLAIN = '"[^"\\\\\\x00-\\x1f]*"'
const PLAIN_LIST = `\\[(?:${PLAIN}(?:,${PLAIN})*)?\\]`

/**
 * A record exactly as JSON.stringify writes a newRecord (rules.ts): every field in its order,
 * then its id and pin if it has them, whole numbers, and no string that needed an escape. Its address, user flag and subnets are
 * then the text JSON.stringify would write for them. (test/known-text.test.js checks that
 * what the table stores matches, so a change of the record's fields shows there.)
 */
export const STORED_RECORD = new RegExp(
  `^\\{"address":(${PLAIN}),"user":(true|false),"sources":${PLAIN_LIST},"first":\\d+,"last":\\d+,"lastTry":\\d+,` +
  `"lastOk":\\d+,"ok":\\d+,"fail":\\d+,"streak":\\d+,"rx":\\d+,"tx":\\d+,"subnets":(${PLAIN_LIST})` +
  '(?:,"id":"([0-9a-f]{64})","pin":"(hint|seen|given)")?\\}$'
)

/**
 * The JSON text of the known row of the record stored under key as text, exactly what
 * JSON.stringify(knownRow(record)) writes; undefined for a row that is not a record (as
 * asRecord). Text that is not JSON throws as the table's JSON decoding would.
 */
export function knownRowJson (key: string, text: string): string | undefined {
  const m = STORED_RECORD.exec(text)
  if (m !== null) {
    if (m[1] !== `"${key}"`) return undefined
    const id = m[4] !== undefined && m[5] !== 'hint' ? `,"id":"${m[4]}"` : ''
    return `{"address":${m[1]},"saved":${m[2]},"subnets":${m[3]}${id}}`
  }
  const r = asRecord(key, JSON.parse(text))
  return r === undefined ? undefined : JSON.stringify(knownRow(r))
}
