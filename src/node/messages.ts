// Messages by id on a node: ring/messages.ts's request of the library's own, sent and answered
// by the node's remote actions (node/actions.ts): over a live link to the recipient when there
// is one (one hop, the same signed envelope, so the acknowledgement is the recipient's own),
// else routed over the ring. A message received goes to the node's `message` listeners; with
// none, or when one throws, it is refused and the sender is told why.
import { ActionError, RUN_TIMEOUT } from '../ring/actions.js'
import { MESSAGE_ACTION, messageHandler, messageText, type ReceivedMessage } from '../ring/messages.js'
import type { NodeActions } from './actions.js'
import type { NodeContext } from './types.js'

const ID = /^[0-9a-fA-F]{64}$/

export interface SendOptions {
  /** How long to wait for the acknowledgement, ms (default RUN_TIMEOUT, at most MAX_ENVELOPE_TTL). */
  timeout?: number
}

export class NodeMessages {
  constructor (
    private readonly ctx: NodeContext,
    private readonly actions: NodeActions,
    /** Hands a message to the node's listeners; false when nothing listens. */
    private readonly deliver: (m: ReceivedMessage) => boolean
  ) {
    actions.internal(MESSAGE_ACTION, messageHandler(({ from, message }) => {
      // No listener: nobody would read it, so no acknowledgement says it was delivered.
      if (!this.deliver({ from, message, time: this.ctx.clock.now() })) throw new Error('the recipient takes no messages (nothing listens for them)')
    }))
  }

  /**
   * Send message (JSON) to node `to`; resolves once the recipient's signed acknowledgement is
   * back. Bad arguments, an oversize message and our own id reject before anything is sent.
   */
  async send (to: unknown, message: unknown, opts: SendOptions = {}): Promise<void> {
    if (typeof to !== 'string' || !ID.test(to)) throw new TypeError('send: the recipient must be a node id, 64 hex digits')
    const id = to.toLowerCase()
    const text = messageText(message)
    if (typeof text !== 'string') throw text.tooLarge ? new RangeError(`send: ${text.problem}`) : new TypeError(`send: ${text.problem}`)
    await this.ctx.ready
    if (this.actions.id !== '' && id === this.actions.id) throw new ActionError('send: that id is this node\'s own: a message to ourselves goes nowhere', 'unreachable')
    try {
      await this.actions.ask(id, MESSAGE_ACTION, message, opts.timeout ?? RUN_TIMEOUT, 'send')
    } catch (err) {
      throw unreachable(err, id)
    }
  }
}

/**
 * A lookup that failed on its way (a routing loop, its TTL, no answer: a ring still settling,
 * or no node there) said as what it means to a sender: no way to that id, the ring's reason
 * after it. What the recipient or the node responsible for the id said stays as it is.
 */
function unreachable (err: unknown, id: string): unknown {
  if (!(err instanceof ActionError) || err.code !== 'unreachable') return err
  const prefix = `send to ${id.slice(0, 12)}…: `
  const reason = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : null
  if (reason === null || /^(refused:|no node with that id|peernet is closed)/.test(reason)) return err
  return new ActionError(`${prefix}no route to that id over the ring (${reason})`, 'unreachable')
}
