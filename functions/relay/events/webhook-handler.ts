import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { OnceResult } from '../core/dedup/relay-once';
import type { OutboundMessage } from '../core/delivery/deliver';
import type { WebhookGate } from '../core/inbound/accept-webhook';
import { ONEIO_ATTRIBUTE_LIMIT } from '../core/inbound/oversized-attributes';
import { webhookMessage } from '../core/inbound/webhook-message';
import { toWebhookRequest } from './api-gateway';
import { toHttpResponse, type WebhookAnswer } from './http-response';
import { count, countRejection, type Telemetry } from './telemetry';

export interface WebhookDeps {
  readonly gate: WebhookGate;
  /** Relays once per delivery id; `lapseAt` is when this invocation's claim on the id lapses. */
  readonly relay: (message: OutboundMessage, deadline: number, lapseAt: number) => Promise<OnceResult>;
  readonly telemetry: Telemetry;
  readonly now: () => number;
}

/** A sender such as GitHub gives up after ~10 s; answer well before. */
export const WEBHOOK_BUDGET_MS = 8_000;

/**
 * `POST /webhooks/{source}` (and Okta's verification `GET`): check, relay or answer a handshake, answer. Logs one
 * line per request, never the body.
 */
export async function handleWebhook(
  event: APIGatewayProxyEventV2,
  remainingMs: number,
  deps: WebhookDeps,
): Promise<APIGatewayProxyStructuredResultV2> {
  const started = deps.now();
  const deadline = started + Math.min(WEBHOOK_BUDGET_MS, remainingMs - 1_000);
  const { logger } = deps.telemetry;
  const apiRequestId = event.requestContext.requestId;

  const parsed = toWebhookRequest(event);
  if (!parsed.ok) {
    count(deps.telemetry, 'WebhookRefused');
    logger.info('Webhook handled', {
      apiRequestId,
      source: event.pathParameters?.source,
      statusCode: parsed.status,
      latencyMs: deps.now() - started,
      outcome: 'refused',
    });
    return toHttpResponse({ kind: 'refused', status: parsed.status, error: parsed.error });
  }
  const { request } = parsed;
  const source = request.source;
  let answer: WebhookAnswer;
  let fields: Record<string, unknown> = {};
  try {
    const verdict = await deps.gate.check(request, started);
    if (!verdict.ok) {
      if (verdict.reason) countRejection(deps.telemetry, verdict.reason);
      else count(deps.telemetry, 'WebhookRefused');
      answer = { kind: 'refused', status: verdict.status, error: verdict.error };
      fields = { outcome: 'refused', ...(verdict.reason && { reason: verdict.reason }) };
    } else if (verdict.handshake) {
      // Answered here and now: a handshake is never de-duplicated, queued or relayed. Its value is not logged.
      count(deps.telemetry, 'WebhookHandshake');
      answer = { kind: 'handshake', answer: verdict.handshake };
      fields = { outcome: 'handshake', handshake: verdict.handshake.kind };
    } else {
      const relayId = randomUUID();
      const message = webhookMessage(verdict, { relayId, source, receivedAt: started });
      if (verdict.oversizedPaths) {
        // Relayed all the same: ONEiO takes the message, it only cuts those values.
        logger.warn('Message has values longer than ONEiO keeps; ONEiO will cut them', {
          relayId,
          source,
          paths: verdict.oversizedPaths,
          limit: ONEIO_ATTRIBUTE_LIMIT,
        });
        count(deps.telemetry, 'OversizedAttribute');
      }
      const result = await deps.relay(message, deadline, started + remainingMs);
      answer = answerFor(result, relayId);
      fields = {
        relayId: answer.kind === 'duplicate' ? answer.relayId : relayId,
        deliveryId: message.deliveryId,
        ...(message.oneioEndpoint !== undefined && { oneioEndpoint: message.oneioEndpoint }),
        outcome: result.status === 'duplicate' ? `duplicate-of-${result.state}` : result.status,
        attempts: result.attempts,
        ...('lastError' in result && { lastError: result.lastError }),
        ...('held' in result && result.held !== undefined && { held: result.held }),
      };
    }
  } catch (error) {
    // Secrets Manager down (signing secrets unreadable) or a bug: the sender should retry, nothing was accepted.
    answer = { kind: 'unavailable' };
    fields = { outcome: 'error', error: error instanceof Error ? error.message : 'unknown error' };
  }
  const response = toHttpResponse(answer);
  const log = response.statusCode === 503 ? logger.error.bind(logger) : logger.info.bind(logger);
  log('Webhook handled', {
    apiRequestId,
    source,
    statusCode: response.statusCode,
    latencyMs: deps.now() - started,
    ...fields,
  });
  return response;
}

function answerFor(result: OnceResult, relayId: string): WebhookAnswer {
  switch (result.status) {
    case 'duplicate':
      return { kind: 'duplicate', of: result.state, relayId: result.relayId };
    case 'delivered':
      return { kind: 'delivered', relayId };
    case 'queued':
    case 'parked':
      return { kind: 'queued', relayId };
    case 'failed':
      return { kind: 'unavailable', relayId };
  }
}
