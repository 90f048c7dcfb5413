import { msgraphValidation } from '../handshake/msgraph-validation';
import { equalsAnySecret } from './constant-time';
import { jsonObject } from './json-body';
import { accept, answerHandshake, type InboundRequest, reject, type Verdict, type Verifier } from './types';

/**
 * Microsoft Graph change notifications
 * (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks): Graph signs nothing; each
 * notification in `value[]` carries the `clientState` given when the subscription was created, and every one of
 * them must carry a configured clientState (compared as SHA-256 digests, in constant time). A body without
 * notifications, or a notification without a clientState, is `malformed_signature`.
 *
 * A request with `?validationToken=…` is Graph validating the notification URL: it carries no clientState and is
 * answered as a handshake. Graph repeats a notification whole on retry, so the delivery id is the body's hash.
 */
export function msgraphVerifier(): Verifier {
  return {
    verify(request: InboundRequest, secrets: readonly string[]): Verdict {
      const validation = msgraphValidation(request.query);
      if (validation === 'unusable') return reject('malformed_signature');
      if (validation !== undefined) return answerHandshake(validation);

      if (!secrets.some((s) => s.length > 0)) return reject('no_secret');
      const notifications = jsonObject(request.body)?.value;
      if (!Array.isArray(notifications) || notifications.length === 0) return reject('malformed_signature');
      for (const notification of notifications) {
        const clientState =
          typeof notification === 'object' && notification !== null
            ? (notification as { clientState?: unknown }).clientState
            : undefined;
        if (typeof clientState !== 'string') return reject('malformed_signature');
        if (!equalsAnySecret(secrets, clientState)) return reject('bad_signature');
      }
      return accept();
    },
  };
}
