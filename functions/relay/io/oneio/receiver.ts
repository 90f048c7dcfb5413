import { type Dispatcher, request } from 'undici';
import type { OutboundMessage } from '../../core/delivery/deliver';
import { outboundRequest } from '../../core/delivery/outbound-request';
import { ReceiverNetworkError } from '../../core/errors';
import type { Receiver, ReceiverResponse } from '../../ports/oneio';
import { errorCode } from '../error-code';

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

/**
 * ONEiO's REST receiver: one POST per message, Bearer token, the body passed through untouched (or wrapped in the
 * relay's envelope), the relay's metadata and the forwarded sender headers, the sender's query on the URL.
 */
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
    const outbound = outboundRequest(message, this.url);
    try {
      const response = await request(outbound.url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        // Ours last: no forwarded header can stand in for them (none is ever named so, see outboundRequest).
        headers: {
          ...outbound.headers,
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json',
        },
        body: outbound.body,
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
