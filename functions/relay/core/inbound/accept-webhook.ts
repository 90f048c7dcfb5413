import type { SigningSecrets } from '../../ports/signing-secrets';
import { forwardedHeaders } from './forwarded-headers';
import { forwardedQuery } from './forwarded-query';
import type { HandshakeAnswer } from './handshake/handshake-answer';
import { oversizedAttributes } from './oversized-attributes';
import { readBody } from './read-body';
import type { SourceDeclaration, SourceDeclarations } from './source-declaration';
import type { InboundRequest, RejectReason, Verifier } from './verify/types';
import { verifierFor } from './verify/verifier-for';

/** A webhook as it arrived, independent of API Gateway's event shape. Header names are lower-case. */
export interface WebhookRequest extends InboundRequest {
  readonly source: string;
  readonly method: 'GET' | 'POST';
  /** The raw query string without `?` (`''` when there is none). */
  readonly query: string;
}

/** A message the relay takes, with what the outbound side needs besides the body. */
export interface AcceptedWebhook {
  readonly ok: true;
  readonly handshake?: undefined;
  /** The JSON text ONEiO receives. */
  readonly json: string;
  readonly parsed: unknown;
  readonly deliveryId?: string;
  /** Sender headers to forward to ONEiO (lower-case names), see `forwardedHeaders`. */
  readonly forwardedHeaders: Readonly<Record<string, string>>;
  /** The query string to append to ONEiO's receiver URL, without `?`; `''` for none. See `forwardedQuery`. */
  readonly forwardedQuery: string;
  /** JSON paths of string values ONEiO will cut at its attribute limit; absent when there are none. */
  readonly oversizedPaths?: readonly string[];
  /** The source's named ONEiO endpoint (credential pair); absent for the default pair. */
  readonly oneioEndpoint?: string;
  /** The source wants its messages wrapped in the relay's envelope. */
  readonly envelope?: true;
}

export type WebhookVerdict =
  | AcceptedWebhook
  /** An authentic handshake: answer it as given, relay nothing. */
  | { readonly ok: true; readonly handshake: HandshakeAnswer }
  | {
      readonly ok: false;
      readonly status: 400 | 401 | 404 | 413 | 415;
      /** Safe to show the sender; 401s stay opaque. */
      readonly error: string;
      /** Why a signature check failed, for logs and metrics only. */
      readonly reason?: RejectReason;
    };

interface Gate {
  readonly declaration: SourceDeclaration;
  readonly verifier: Verifier;
  readonly needsSecret: boolean;
}

/**
 * The inbound checks, cheapest and least revealing first: unknown source or method (404), body size (413),
 * authenticity on the raw bytes (401) — which is also where a sender's handshake is recognised and answered — then
 * content type (415) and body syntax (400). A refused request or a handshake costs no token fetch and no ONEiO
 * call.
 */
export class WebhookGate {
  private readonly gates: ReadonlyMap<string, Gate>;

  constructor(
    declarations: SourceDeclarations,
    private readonly secrets: SigningSecrets,
    private readonly maxBodyBytes: number,
  ) {
    this.gates = new Map(
      Object.entries(declarations).map(([name, declaration]) => [
        name,
        {
          declaration,
          verifier: verifierFor(declaration),
          needsSecret: declaration.scheme !== 'unauthenticated',
        },
      ]),
    );
  }

  /** Runs every check. Rejects only when the signing secrets cannot be read (not the sender's fault). */
  async check(request: WebhookRequest, nowMs: number): Promise<WebhookVerdict> {
    const gate = this.gates.get(request.source);
    if (!gate) return { ok: false, status: 404, error: 'Unknown source' };
    // A GET is only ever Okta's verification request; for any other source the route does not exist.
    if (request.method === 'GET' && !gate.declaration.oktaVerification) {
      return { ok: false, status: 404, error: 'Not found' };
    }
    if (request.body.length > this.maxBodyBytes) {
      return { ok: false, status: 413, error: `Body is larger than ${this.maxBodyBytes} bytes` };
    }
    const secrets = gate.needsSecret ? await this.secrets.forSource(request.source) : [];
    const verdict = gate.verifier.verify(request, secrets, nowMs);
    if (!verdict.ok) return { ok: false, status: 401, error: 'Unauthorized', reason: verdict.reason };
    if (verdict.handshake) return { ok: true, handshake: verdict.handshake };
    if (request.method === 'GET') return { ok: false, status: 404, error: 'Not found' };

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
    const oversized = oversizedAttributes(body.json, body.parsed);
    return {
      ok: true,
      json: body.json,
      parsed: body.parsed,
      ...(verdict.deliveryId !== undefined && { deliveryId: verdict.deliveryId }),
      forwardedHeaders: forwardedHeaders(request, gate.declaration),
      forwardedQuery: forwardedQuery(request, gate.declaration),
      ...(oversized.length > 0 && { oversizedPaths: oversized }),
      ...(gate.declaration.oneioEndpoint !== undefined && { oneioEndpoint: gate.declaration.oneioEndpoint }),
      ...(gate.declaration.envelope === true && { envelope: true }),
    };
  }
}
