import { type Dispatcher, request } from 'undici';
import type { OutboundMessage } from '../../core/delivery/deliver';
import { ReceiverNetworkError } from '../../core/errors';
import type { Receiver, ReceiverResponse } from '../../ports/oneio';
import { errorCode } from '../error-code';

/** Header carrying the relay id: the same on every copy of one message, so ONEiO or a person can tell copies apart. */
export const MESSAGE_ID_HEADER = 'x-relay-message-id';
/** Header carrying the sender's delivery id (or the hash the relay de-duplicates by). */
export const DELIVERY_ID_HEADER = 'x-relay-delivery-id';

/**
 * Failures that happen before a request can have reached ONEiO: no connection was ever made. Anything else (a
 * timeout waiting for the answer, a reset or close mid-exchange) leaves the message in doubt.
 */
const NEVER_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** ONEiO's REST receiver: one POST per message, Bearer token, JSON body passed through untouched. */
export class OneioReceiver implements Receiver {
  constructor(
    private readonly url: string,
    private readonly dispatcher: Dispatcher,
  ) {}

  async send(
    message: OutboundMessage,
    accessToken: string,
    options: { signal?: AbortSignal },
  ): Promise<ReceiverResponse> {
    try {
      const response = await request(this.url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json',
          [MESSAGE_ID_HEADER]: message.relayId,
          [DELIVERY_ID_HEADER]: message.deliveryId,
        },
        body: message.body,
        ...(options.signal && { signal: options.signal }),
      });
      // The answer body is not used, but it must be consumed for the connection to return to the keep-alive pool.
      await response.body.dump();
      const retryAfter = response.headers['retry-after'];
      return {
        status: response.statusCode,
        ...(typeof retryAfter === 'string' && { retryAfter }),
      };
    } catch (error) {
      const code = errorCode(error);
      throw new ReceiverNetworkError(`ONEiO receiver unreachable (${code})`, !NEVER_SENT.has(code), {
        cause: error,
      });
    }
  }
}
