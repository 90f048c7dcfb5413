import { createHmac, randomUUID } from 'node:crypto';

/**
 * Signing secrets the sandbox stores for its sources. Samples, published here on purpose: they only ever guard
 * the sandbox on this machine.
 */
export function sampleSigningSecret(source: string): string {
  return `sandbox-${source}-signing-secret`;
}

export interface SampleRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const SAMPLE_BODY = JSON.stringify({
  zen: 'Keep it logically awesome.',
  hook_id: 123456789,
  repository: { full_name: 'example/oneio-relay-sandbox' },
});

/**
 * A GitHub webhook signed as GitHub signs it (`X-Hub-Signature-256` over the exact body bytes) with a fresh
 * delivery id; by default a `ping` signed with the sandbox's sample secret.
 */
export function sampleGithubWebhook(
  baseUrl: string,
  body = SAMPLE_BODY,
  secret = sampleSigningSecret('github'),
): SampleRequest {
  return {
    url: `${baseUrl}/webhooks/github`,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'ping',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
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
