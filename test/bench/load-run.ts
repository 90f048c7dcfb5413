import { SWEEP_EVENT } from '../../functions/relay/contract';
import { DYNAMODB_THROTTLED, dynamoDbRequest, type ProxyRule, startFaultProxy } from '../faults/fault-proxy';
import { lambdaContext } from '../support/lambda-context';
import { seededRandom } from '../support/seeded-random';
import { type BenchFleet, signedWebhook } from './bench-fleet';
import { fixed } from './stats';
import type { Row } from './table';

const WEBHOOKS = 10_000;
const ENVIRONMENTS = 8;

/** How the dependencies misbehave during a load run. Rules draw from one seeded generator: same faults every run. */
export interface FaultProfile {
  readonly name: string;
  /** In the section title, e.g. `5 % receiver 503s`. */
  readonly description: string;
  /** Decides each request to ONEiO's receiver; `count` tallies what was injected. */
  receiver(random: () => number, count: (fault: FaultKind) => void): ProxyRule;
  /** Decides each DynamoDB request, when the profile touches DynamoDB. */
  dynamodb?(random: () => number, count: (fault: FaultKind) => void): ProxyRule;
}

export type FaultKind = 'receiverClean' | 'receiverAmbiguous' | 'dynamodbClean' | 'dynamodbAmbiguous';

const UNAVAILABLE = {
  status: 503,
  body: '{"status":"unavailable"}',
  headers: { 'content-type': 'application/json' },
} as const;

/** A seeded 5 % of the POSTs answered 503, independently per request (retries included): clean faults only. */
export const RECEIVER_503S: FaultProfile = {
  name: 'load-run',
  description: '5 % receiver 503s',
  receiver: (random, count) => (request) => {
    if (!request.url?.startsWith('/api/v2') || random() >= 0.05) return 'pass';
    count('receiverClean');
    return UNAVAILABLE;
  },
};

/**
 * Both halves of faults: 2 % of the POSTs answered 503 and 2 % taken by ONEiO whose answer is then lost (reset, or
 * never sent); 1 % of DynamoDB requests reset before DynamoDB sees them and 1 % of its writes applied, then reset.
 */
export const AMBIGUOUS_FAULTS: FaultProfile = {
  name: 'load-run-ambiguous',
  description: 'clean and ambiguous faults on ONEiO and DynamoDB',
  receiver: (random, count) => (request) => {
    if (!request.url?.startsWith('/api/v2')) return 'pass';
    const x = random();
    if (x < 0.02) {
      count('receiverClean');
      return UNAVAILABLE;
    }
    if (x < 0.04) {
      count('receiverAmbiguous');
      return random() < 0.9 ? { afterApply: 'reset' } : { afterApply: 'hang' };
    }
    return 'pass';
  },
  dynamodb: (random, count) => (request, body) => {
    const x = random();
    if (x < 0.005) {
      count('dynamodbClean');
      return 'reset';
    }
    if (x < 0.01) {
      count('dynamodbClean');
      return DYNAMODB_THROTTLED;
    }
    const write = ['PutItem', 'UpdateItem', 'DeleteItem'].includes(dynamoDbRequest(request, body).operation);
    if (write && x < 0.02) {
      count('dynamodbAmbiguous');
      return { afterApply: 'reset' };
    }
    return 'pass';
  },
};

export interface LoadFigures {
  readonly profile: string;
  readonly webhooks: number;
  readonly environments: number;
  readonly seconds: number;
  readonly answers: Record<string, number>;
  readonly faults: Record<FaultKind, number>;
  readonly receiverRequests: number;
  /** Acknowledged messages whose answer from ONEiO never came: queued for the outbox, ONEiO may have them. */
  readonly inDoubt: number;
  /** Sweeps (with the clock moved to the next due time) until the outbox was empty. */
  readonly sweeps: number;
  /** Distinct webhooks ONEiO received at least once. */
  readonly delivered: number;
  /** Webhooks ONEiO received more than once. */
  readonly duplicated: number;
  /** Answered 2xx, not at ONEiO, and in the outbox. */
  readonly inOutbox: number;
  /** Answered 2xx and neither at ONEiO nor in the outbox: acknowledged and lost. */
  readonly lost: number;
  /** During the traffic (the sweeps move the clock on by hours, past the token's lifetime). */
  readonly tokenRequests: number;
}

/**
 * 10,000 distinct webhooks through 8 environments sharing one table, each environment one invocation at a time,
 * while proxies in front of the receiver (and, for some profiles, DynamoDB) inject the profile's faults. Then the
 * outbox is swept until it is empty, moving the clock on to each next due time, and every acknowledged webhook is
 * looked for at ONEiO and in the outbox.
 */
export async function measureLoadRun(
  fleet: BenchFleet,
  profile: FaultProfile,
  progress: (line: string) => void,
): Promise<{ rows: Row[]; figures: LoadFigures }> {
  const random = seededRandom(20_240_312);
  const faults: Record<FaultKind, number> = {
    receiverClean: 0,
    receiverAmbiguous: 0,
    dynamodbClean: 0,
    dynamodbAmbiguous: 0,
  };
  const count = (fault: FaultKind) => {
    faults[fault]++;
  };
  const receiver = await startFaultProxy(fleet.oneio.baseUrl, profile.receiver(random, count));
  const dynamodb = profile.dynamodb
    ? await startFaultProxy(fleet.dynamodb.endpoint, profile.dynamodb(random, count))
    : undefined;
  const tableName = await fleet.newTable();
  const environments = Array.from({ length: ENVIRONMENTS }, () =>
    fleet.environment(tableName, {
      receiverUrl: `${receiver.url}/api/v2`,
      ...(dynamodb && { dynamodbEndpoint: dynamodb.url }),
    }),
  );
  const tokensBefore = fleet.oneio.tokenRequests.count;
  const receivedBefore = fleet.oneio.messages.length;
  const answers: { status: number; relayId?: string }[] = new Array(WEBHOOKS);

  const started = performance.now();
  let done = 0;
  await Promise.all(
    environments.map(async (environment, index) => {
      for (let i = index; i < WEBHOOKS; i += ENVIRONMENTS) {
        const event = signedWebhook(JSON.stringify({ run: profile.name, i }));
        const response = await environment.handle(event, lambdaContext());
        const body = JSON.parse(response?.body ?? '{}') as { relayId?: unknown };
        answers[i] = {
          status: response?.statusCode ?? 0,
          ...(typeof body.relayId === 'string' && { relayId: body.relayId }),
        };
        if (++done % 2_000 === 0)
          progress(`  ${profile.name}: ${done.toLocaleString('en')} webhooks answered`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const tokenRequests = fleet.oneio.tokenRequests.count - tokensBefore;

  // What the outbox holds now, then sweeps until it is empty, as the schedule would over the next hours.
  const outbox = fleet.outbox(tableName);
  const queued = await outbox.list('due', WEBHOOKS);
  const inDoubt = queued.filter((item) => item.lastError.includes('in doubt')).length;
  receiver.setRule(() => 'pass');
  dynamodb?.setRule(() => 'pass');
  const sweeps = await sweepUntilQuiet(fleet, tableName, environments[0]?.handle);

  const copies = new Map<number, number>();
  for (const message of fleet.oneio.messages.slice(receivedBefore)) {
    const parsed = JSON.parse(message.body) as { run?: unknown; i?: unknown };
    if (parsed.run === profile.name && typeof parsed.i === 'number')
      copies.set(parsed.i, (copies.get(parsed.i) ?? 0) + 1);
  }
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
    profile: profile.name,
    webhooks: WEBHOOKS,
    environments: ENVIRONMENTS,
    seconds,
    answers: statusCounts,
    faults,
    receiverRequests: receiver.requests,
    inDoubt,
    sweeps,
    delivered: copies.size,
    duplicated: [...copies.values()].filter((n) => n > 1).length,
    inOutbox,
    lost,
    tokenRequests,
  };
  await Promise.all(environments.map((e) => e.close()));
  await Promise.all([receiver.close(), dynamodb?.close()]);
  return { figures, rows: rowsOf(figures, profile) };
}

/** Sweeps one environment's outbox until nothing is due, moving the clock to each next due time. */
async function sweepUntilQuiet(
  fleet: BenchFleet,
  tableName: string,
  handle: ((event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>) | undefined,
): Promise<number> {
  const outbox = fleet.outbox(tableName);
  const realNow = Date.now;
  let offset = 0;
  // The bench runs no fake timers: Date.now alone moves on, as the schedule's minutes and hours would.
  Date.now = () => realNow() + offset;
  try {
    let sweeps = 0;
    for (; sweeps < 100; sweeps++) {
      const [next] = await outbox.list('due', 1);
      if (next === undefined || handle === undefined) break;
      offset += Math.max(0, next.dueAt - Date.now()) + 1_000;
      await handle(SWEEP_EVENT, lambdaContext());
    }
    return sweeps;
  } finally {
    Date.now = realNow;
  }
}

function rowsOf(figures: LoadFigures, profile: FaultProfile): Row[] {
  const section = `Load run: ${WEBHOOKS.toLocaleString('en')} webhooks, ${ENVIRONMENTS} environments, ${profile.description} (${fixed(figures.seconds, 0)} s)`;
  const acknowledged = Object.entries(figures.answers)
    .filter(([status]) => Number(status) >= 200 && Number(status) < 300)
    .reduce((sum, [, n]) => sum + n, 0);
  const answered = Object.entries(figures.answers)
    .map(([status, n]) => `${status}: ${n}`)
    .join(' · ');
  const { receiverClean, receiverAmbiguous, dynamodbClean, dynamodbAmbiguous } = figures.faults;
  const ambiguous = receiverAmbiguous + dynamodbAmbiguous > 0;
  return [
    { section, figure: 'Answers', relay: answered },
    {
      section,
      figure: ambiguous
        ? 'Faults: receiver clean · ambiguous · DynamoDB clean · ambiguous'
        : 'Injected 503s · receiver requests',
      relay: ambiguous
        ? `${receiverClean} · ${receiverAmbiguous} · ${dynamodbClean} · ${dynamodbAmbiguous}`
        : `${receiverClean} · ${figures.receiverRequests}`,
    },
    {
      section,
      figure: 'Acknowledged (2xx) · delivered · in outbox',
      relay: `${acknowledged} · ${figures.delivered} · ${figures.inOutbox}`,
      goal: 'every acknowledged one kept',
      met: figures.delivered + figures.inOutbox >= acknowledged && figures.lost === 0,
    },
    ...(ambiguous
      ? [
          {
            section,
            figure: 'In doubt (queued, ONEiO may have it) · sweeps until quiet',
            relay: `${figures.inDoubt} · ${figures.sweeps}`,
          },
        ]
      : []),
    {
      section,
      figure: 'Duplicated at ONEiO',
      relay: String(figures.duplicated),
      // A copy ONEiO took without answering is sent again from the outbox: at most one duplicate per such fault.
      goal: ambiguous ? `≤ ${receiverAmbiguous} (ambiguous receiver faults)` : '0',
      met: figures.duplicated <= (ambiguous ? receiverAmbiguous : 0),
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
  ];
}
