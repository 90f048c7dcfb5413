import type { SigningSecrets } from '../../ports/signing-secrets';
import { readBody } from './read-body';
import type { SourceDeclarations } from './source-declaration';
import type { InboundRequest, RejectReason, Verifier } from './verify/types';
import { verifierFor } from './verify/verifier-for';

/** A webhook as it arrived, independent of API Gateway's event shape. Header names are lower-case. */
export interface WebhookRequest extends InboundRequest {
  readonly source: string;
}

export type WebhookVerdict =
  | { readonly ok: true; readonly json: string; readonly parsed: unknown; readonly deliveryId?: string }
  | {
      readonly ok: false;
      readonly status: 400 | 401 | 404 | 413 | 415;
      /** Safe to show the sender; 401s stay opaque. */
      readonly error: string;
      /** Why a signature check failed, for logs and metrics only. */
      readonly reason?: RejectReason;
    };

/**
 * The inbound checks, cheapest and least revealing first: unknown source (404), body size (413), authenticity on
 * the raw bytes (401), then content type (415) and body syntax (400). A refused request costs no token fetch and
 * no ONEiO call.
 */
export class WebhookGate {
  private readonly verifiers: ReadonlyMap<
    string,
    { readonly verifier: Verifier; readonly needsSecret: boolean }
  >;

  constructor(
    declarations: SourceDeclarations,
    private readonly secrets: SigningSecrets,
    private readonly maxBodyBytes: number,
  ) {
    this.verifiers = new Map(
      Object.entries(declarations).map(([name, declaration]) => [
        name,
        { verifier: verifierFor(declaration), needsSecret: declaration.scheme !== 'unauthenticated' },
      ]),
    );
  }

  /** Runs every check. Rejects only when the signing secrets cannot be read (not the sender's fault). */
  async check(request: WebhookRequest, nowMs: number): Promise<WebhookVerdict> {
    const entry = this.verifiers.get(request.source);
    if (!entry) return { ok: false, status: 404, error: 'Unknown source' };
    if (request.body.length > this.maxBodyBytes) {
      return { ok: false, status: 413, error: `Body is larger than ${this.maxBodyBytes} bytes` };
    }
    const secrets = entry.needsSecret ? await this.secrets.forSource(request.source) : [];
    const verdict = entry.verifier.verify(request, secrets, nowMs);
    if (!verdict.ok) return { ok: false, status: 401, error: 'Unauthorized', reason: verdict.reason };

    const body = readBody(request.headers['content-type'], request.body);
    if (!body.ok) return body;
    // A form turned into JSON can grow (escaping); the outbox must still be able to hold what was accepted.
    if (Buffer.byteLength(body.json) > this.maxBodyBytes) {
      return {
        ok: false,
        status: 413,
        error: `Body is larger than ${this.maxBodyBytes} bytes once converted to JSON`,
      };
    }
    return {
      ok: true,
      json: body.json,
      parsed: body.parsed,
      ...(verdict.deliveryId !== undefined && { deliveryId: verdict.deliveryId }),
    };
  }
}
