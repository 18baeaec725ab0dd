// send and messages: a message by id to another node, answered once its signed acknowledgement
// is back; and the messages that came for this node, taken from the inbox (../inbox.ts) and
// followed as they come, like `log`.
import { MAX_ENVELOPE_TTL } from '../../ring/envelope.js'
import { ActionError } from '../../ring/actions.js'
import type { MessageRow, SendRow } from '../../control/protocol.js'
import { ControlError } from '../control.js'
import { MAX_INBOX } from '../inbox.js'
import { str, optInt, optBool, type Params } from '../params.js'
import { method } from './method.js'

interface SendParams { to: string, message: unknown, timeout: number | undefined }

function sendParams (p: Params): SendParams {
  const to = str(p, 'to')
  if (!/^[0-9a-fA-F]{64}$/.test(to)) throw new ControlError('EINVAL', 'params.to must be a node id, 64 hex digits')
  if (!('message' in p)) throw new ControlError('EINVAL', 'params.message is missing (any JSON value)')
  return { to: to.toLowerCase(), message: p.message, timeout: optInt(p, 'timeout', 1, MAX_ENVELOPE_TTL) }
}

export const send = method<SendParams, SendRow>({
  name: 'send',
  params: sendParams,
  async run (ctx, { to, message, timeout }, reply) {
    const start = Date.now()
    try {
      await ctx.node.send(to, message, timeout === undefined ? {} : { timeout })
    } catch (err) {
      // What the node refuses before sending (a message too large, no JSON) is the request's fault.
      if (err instanceof TypeError || err instanceof RangeError) throw new ControlError('EINVAL', err.message)
      if (err instanceof ActionError) throw new ControlError('ESEND', err.message)
      throw err
    }
    await reply.row({ to, ms: Date.now() - start })
  }
})

export const messages = method<{ follow: boolean }, MessageRow>({
  name: 'messages',
  params: p => ({ follow: optBool(p, 'follow') !== false }),
  async run (ctx, { follow }, reply) {
    if (!follow) {
      for (const row of ctx.inbox.takeAll()) await reply.row(row)
      return
    }
    const reader = ctx.inbox.attach(row => reply.row(row))
    await Promise.race([reader.ended, ctx.stopping, new Promise<void>(resolve => {
      if (reply.signal.aborted) resolve()
      reply.signal.addEventListener('abort', () => resolve())
    })])
    ctx.inbox.leave(reader)
    if (reader.dropped && !reply.signal.aborted) throw new ControlError('ESLOW', `messages reader fell behind while ${MAX_INBOX} messages waited (MAX_INBOX) and was dropped; they wait for the next reader`)
  }
})
