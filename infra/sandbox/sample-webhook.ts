import type { SourceDeclarations } from '../../functions/relay/core/inbound/source-declaration';
import { qa } from '../config';
import { githubSigner } from './signers/github';
import { signerFor } from './signers/index';

/**
 * Signing secrets the sandbox stores for its sources, in the form each source's scheme takes. Samples, published
 * here on purpose: they only ever guard the sandbox on this machine.
 */
export function sampleSigningSecret(source: string, sources: SourceDeclarations = qa.sources): string {
  const declaration = sources[source];
  return declaration === undefined
    ? `sandbox-${source}-signing-secret`
    : signerFor(declaration).sampleSecret(source);
}

export interface SampleRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * A GitHub webhook signed as GitHub signs it (`X-Hub-Signature-256` over the exact body bytes) with a fresh
 * delivery id; by default a `ping` signed with the sandbox's sample secret.
 */
export function sampleGithubWebhook(
  baseUrl: string,
  body = githubSigner.sampleBody(),
  secret = sampleSigningSecret('github'),
): SampleRequest {
  return {
    url: `${baseUrl}/webhooks/github`,
    headers: githubSigner.sign(body, secret, { scheme: 'github' }, Date.now()),
    body,
  };
}

/** A `curl` command line for `request`, safe to paste into any POSIX shell. */
export function curlCommand(request: SampleRequest): string {
  const lines = [`curl -i -X POST ${shellQuote(request.url)}`];
  for (const [name, value] of Object.entries(request.headers))
    lines.push(`  -H ${shellQuote(`${name}: ${value}`)}`);
  lines.push(`  --data-raw ${shellQuote(request.body)}`);
  return lines.join(' \\\n');
}

/** Single-quotes a word for sh: the only character that needs care inside single quotes is the quote itself. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
