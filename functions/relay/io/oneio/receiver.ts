import { type Dispatcher, request } from 'undici';
import { ReceiverNetworkError } from '../../core/errors';
import type { Receiver, ReceiverResponse } from '../../ports/oneio';
import { errorCode } from '../error-code';

/** ONEiO's REST receiver: one POST per message, Bearer token, JSON body passed through untouched. */
export class OneioReceiver implements Receiver {
  constructor(
    private readonly url: string,
    private readonly dispatcher: Dispatcher,
  ) {}

  async send(
    body: string,
    accessToken: string,
    options: { signal?: AbortSignal },
  ): Promise<ReceiverResponse> {
    try {
      const response = await request(this.url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body,
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
      throw new ReceiverNetworkError(`ONEiO receiver unreachable (${errorCode(error)})`, {
        cause: error,
      });
    }
  }
}
