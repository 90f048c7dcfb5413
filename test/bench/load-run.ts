import { type ProxyRule, startFaultProxy } from '../faults/fault-proxy';
import { lambdaContext } from '../support/lambda-context';
import { seededRandom } from '../support/seeded-random';
import { type BenchFleet, signedWebhook } from './bench-fleet';
import { fixed } from './stats';
import type { Row } from './table';

const WEBHOOKS = 10_000;
const ENVIRONMENTS = 8;
const FAILURE_SHARE = 0.05;
const RUN = 'load-run';

export interface LoadFigures {
  readonly webhooks: number;
  readonly environments: number;
  readonly seconds: number;
  readonly answers: Record<string, number>;
  /** Receiver 503s the proxy injected (the relay retried each one). */
  readonly injected503: number;
  readonly receiverRequests: number;
  /** Distinct webhooks ONEiO received at least once. */
  readonly delivered: number;
  /** Webhooks ONEiO received more than once. */
  readonly duplicated: number;
  /** Answered 2xx, not at ONEiO, and in the outbox. */
  readonly inOutbox: number;
  /** Answered 2xx and neither at ONEiO nor in the outbox: acknowledged and lost. */
  readonly lost: number;
  readonly tokenRequests: number;
}

/**
 * 10,000 distinct webhooks through 8 environments sharing one table, each environment one invocation at a time,
 * while a proxy in front of the receiver answers a seeded 5 % of the POSTs with 503 (independently per request,
 * retries included). Then every acknowledged webhook is looked for at ONEiO and in the outbox.
 */
export async function measureLoadRun(
  fleet: BenchFleet,
  progress: (line: string) => void,
): Promise<{ rows: Row[]; figures: LoadFigures }> {
  const random = seededRandom(20_240_312);
  const fail503: ProxyRule = (request) =>
    request.url?.startsWith('/api/v2') && random() < FAILURE_SHARE
      ? {
          status: 503,
          body: '{"status":"unavailable"}',
          headers: { 'content-type': 'application/json' },
        }
      : 'pass';
  const proxy = await startFaultProxy(fleet.oneio.baseUrl, fail503);
  const tableName = await fleet.newTable();
  const environments = Array.from({ length: ENVIRONMENTS }, () =>
    fleet.environment(tableName, { receiverUrl: `${proxy.url}/api/v2` }),
  );
  const tokensBefore = fleet.oneio.tokenRequests.count;
  const receivedBefore = fleet.oneio.messages.length;
  const answers: { status: number; relayId?: string }[] = new Array(WEBHOOKS);

  const started = performance.now();
  let done = 0;
  await Promise.all(
    environments.map(async (environment, index) => {
      for (let i = index; i < WEBHOOKS; i += ENVIRONMENTS) {
        const event = signedWebhook(JSON.stringify({ run: RUN, i }));
        const response = await environment.handle(event, lambdaContext());
        const body = JSON.parse(response?.body ?? '{}') as { relayId?: unknown };
        answers[i] = {
          status: response?.statusCode ?? 0,
          ...(typeof body.relayId === 'string' && { relayId: body.relayId }),
        };
        if (++done % 2_000 === 0) progress(`  load run: ${done.toLocaleString('en')} webhooks answered`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;

  const copies = new Map<number, number>();
  for (const message of fleet.oneio.messages.slice(receivedBefore)) {
    const parsed = JSON.parse(message.body) as { run?: unknown; i?: unknown };
    if (parsed.run === RUN && typeof parsed.i === 'number')
      copies.set(parsed.i, (copies.get(parsed.i) ?? 0) + 1);
  }
  const outbox = fleet.outbox(tableName);
  let inOutbox = 0;
  let lost = 0;
  const statusCounts: Record<string, number> = {};
  for (const [i, answer] of answers.entries()) {
    statusCounts[answer.status] = (statusCounts[answer.status] ?? 0) + 1;
    const acknowledged = answer.status >= 200 && answer.status < 300;
    if (!acknowledged || (copies.get(i) ?? 0) > 0) continue;
    if (answer.relayId !== undefined && (await outbox.get(answer.relayId))) inOutbox++;
    else lost++;
  }
  const figures: LoadFigures = {
    webhooks: WEBHOOKS,
    environments: ENVIRONMENTS,
    seconds,
    answers: statusCounts,
    injected503: proxy.faults,
    receiverRequests: proxy.requests,
    delivered: copies.size,
    duplicated: [...copies.values()].filter((n) => n > 1).length,
    inOutbox,
    lost,
    tokenRequests: fleet.oneio.tokenRequests.count - tokensBefore,
  };
  await Promise.all(environments.map((e) => e.close()));
  await proxy.close();

  const section = `Load run: ${WEBHOOKS.toLocaleString('en')} webhooks, ${ENVIRONMENTS} environments, ${FAILURE_SHARE * 100} % receiver 503s (${fixed(seconds, 0)} s)`;
  const acknowledged = answers.filter((a) => a.status >= 200 && a.status < 300).length;
  const answered = Object.entries(statusCounts)
    .map(([status, count]) => `${status}: ${count}`)
    .join(' · ');
  return {
    figures,
    rows: [
      { section, figure: 'Answers', relay: answered },
      {
        section,
        figure: 'Injected 503s · receiver requests',
        relay: `${figures.injected503} · ${figures.receiverRequests}`,
      },
      {
        section,
        figure: 'Acknowledged (2xx) · delivered · in outbox',
        relay: `${acknowledged} · ${figures.delivered} · ${figures.inOutbox}`,
        goal: 'every acknowledged one kept',
        met: figures.delivered + figures.inOutbox >= acknowledged && figures.lost === 0,
      },
      {
        section,
        figure: 'Duplicated at ONEiO',
        relay: String(figures.duplicated),
        goal: '0',
        met: figures.duplicated === 0,
      },
      {
        section,
        figure: 'Lost (acknowledged, nowhere)',
        relay: String(figures.lost),
        goal: '0',
        met: figures.lost === 0,
      },
      {
        section,
        figure: 'Token endpoint requests',
        relay: String(figures.tokenRequests),
        baseline: `per instance ${ENVIRONMENTS} · per delivery ≥ ${WEBHOOKS}`,
        goal: '1',
        met: figures.tokenRequests <= 1,
      },
    ],
  };
}
