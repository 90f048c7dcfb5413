import { curlCommand, sampleGithubWebhook, sampleSigningSecret } from './sample-webhook';
import { CREDENTIALS_SECRET_NAME, type Sandbox, SIGNING_SECRETS_SECRET_NAME } from './sandbox';

/** What `npm start` prints once everything runs: where things are, what to paste, and the ready line last. */
export function sandboxBanner(
  sandbox: Sandbox,
  details: { oneio: string; concurrency: number; sweepSeconds: number; startupMs: number; jsonLogs: boolean },
): string {
  const sample = sampleGithubWebhook(sandbox.url);
  const sources = sandbox.sources;
  return [
    '',
    'oneio-relay sandbox: the relay as deployed with the QA configuration, on this machine',
    '',
    `  Inspector  ${sandbox.url}/   every request next to what ONEiO received, token, outbox, signed samples`,
    `  Webhooks   POST ${sandbox.url}/webhooks/{source}   sources: ${sources.join(', ')}`,
    `  Events     POST ${sandbox.url}/events   or   npx oneio-relay sandbox event --source my.app --detail-type 'Order Placed' --detail '{"orderId":42}'`,
    `  ONEiO      ${details.oneio}`,
    `  DynamoDB   ${sandbox.dynamodbEndpoint}, table ${sandbox.tableName}   (npx oneio-relay outbox list --sandbox)`,
    `  Secrets    Secrets Manager emulator at ${sandbox.secretsManagerUrl}: ${CREDENTIALS_SECRET_NAME}, ${SIGNING_SECRETS_SECRET_NAME}`,
    `             sample signing secrets: ${sources.map((source) => `${source}=${sampleSigningSecret(source)}`).join(', ')}`,
    `  Lambda     up to ${details.concurrency} execution environments; outbox sweep every ${details.sweepSeconds} s`,
    details.jsonLogs
      ? "  Output     the function's JSON log lines, as Lambda writes them"
      : "  Output     one line per request, event and busy sweep (--json-logs for the function's JSON log lines)",
    ...(sandbox.portNote === undefined ? [] : [`  Note       ${sandbox.portNote}`]),
    '',
    'Send a signed GitHub webhook (paste it twice: the second copy is answered as a duplicate):',
    '',
    curlCommand(sample),
    '',
    "ONEiO receives its body byte for byte, its event header (X-GitHub-Event) and the relay's X-Relay-Source,",
    'X-Relay-Message-Id, X-Relay-Delivery-Id and X-Relay-Received-At; a query string on the URL goes on to ONEiO too.',
    '',
    `Ready in ${(details.startupMs / 1000).toFixed(1)} s: ${sandbox.url}  (Ctrl-C stops everything)`,
    '',
  ].join('\n');
}
