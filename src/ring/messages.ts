// Messages by id (the linkup seed's `send(id, message)` and `on('message')`) as a remote action
// the library keeps for itself: a message is a request {action: MESSAGE_ACTION, payload:
// message}, its acknowledgement the signed reply. So a message has every rule a request has,
// from the one place they live (actions.ts, envelope.ts): signed end to end, so a node on the
// route can neither forge `from`, alter the message nor fake the acknowledgement (the reply names
// the request's nonce and is signed by the recipient); replays refused by nonce; one rate per
// sender (ACTION_RATE, ACTION_BURST), shared with its actions, so mixing the two does not double
// it; MAX_HANDLING. What is only a message's: its size (MAX_MESSAGE), and what it must be (JSON).
import { RESERVED_PREFIX, type ActionHandler } from './actions.js'
import { MAX_ENVELOPE_BODY, MAX_MESSAGE } from '../wire/record.js'

export { MAX_MESSAGE }

/** The action a message travels as (RESERVED_PREFIX: no user's handler or run can take it). */
export const MESSAGE_ACTION = `${RESERVED_PREFIX}message`
/** Bytes of the request around a message's JSON text, as the envelope's body carries it. */
export const MESSAGE_WRAPPER = Buffer.byteLength(JSON.stringify(JSON.stringify({ action: MESSAGE_ACTION, payload: null })), 'utf8') - 'null'.length

// The bound holds whatever a message holds (checked when the module loads: a change to either
// constant that breaks it fails every test at once).
if (2 * MAX_MESSAGE + MESSAGE_WRAPPER > MAX_ENVELOPE_BODY) throw new Error('MAX_MESSAGE does not fit MAX_ENVELOPE_BODY')

/** A message as its recipient gets it: the signed sender, the message, when it came (ms). */
export interface ReceivedMessage { from: string, message: unknown, time: number }

/** The message's JSON text, or why it cannot be sent (not JSON, over MAX_MESSAGE). */
export function messageText (message: unknown): string | { problem: string, tooLarge: boolean } {
  let text: string | undefined
  try {
    text = JSON.stringify(message)
  } catch (err) {
    return { problem: `the message must be JSON (${(err as Error).message.split('\n')[0]})`, tooLarge: false }
  }
  // undefined, a function, a symbol: JSON.stringify writes nothing for them.
  if (text === undefined) return { problem: `the message must be a JSON value, not ${typeof message}`, tooLarge: false }
  const size = Buffer.byteLength(text, 'utf8')
  if (size > MAX_MESSAGE) return { problem: `the message is too large: ${size} bytes of JSON, over MAX_MESSAGE (${MAX_MESSAGE})`, tooLarge: true }
  return text
}

/**
 * The handler of MESSAGE_ACTION on a recipient: the payload checked again (a hostile sender
 * seals what it likes, up to MAX_ENVELOPE_BODY), then given to deliver with the signed sender.
 * What deliver throws refuses the message, and the sender is told (one line); when it returns,
 * the reply is the acknowledgement (its result null).
 */
export function messageHandler (deliver: (m: { from: string, message: unknown }) => void): ActionHandler {
  return (payload, { from }) => {
    const text = messageText(payload)
    if (typeof text !== 'string') throw new Error(text.problem)
    deliver({ from, message: payload })
    return null
  }
}
