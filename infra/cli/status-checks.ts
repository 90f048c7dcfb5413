import { CloudWatchClient, GetMetricDataCommand, paginateDescribeAlarms } from '@aws-sdk/client-cloudwatch';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DESTINATION_KEY, TABLE } from '../../functions/relay/contract';
import { DynamoDbDestinationStore } from '../../functions/relay/io/dynamodb/destination-store';
import type { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import { explainAwsError } from './aws-errors';
import { type AwsOptions, awsClientConfig } from './aws-options';
import { timestamp } from './outbox-format';
import type { StackDescription } from './stack-outputs';
import { relativeTime, type StatusCheck } from './status-report';

/** How far back the metrics are searched for the last webhook and the last delivery. */
const METRICS_LOOKBACK_MS = 24 * 3_600_000;
/** Deploy states that need an operator (a failed or rolled-back deployment). */
const FAILED_STACK = /(FAILED|ROLLBACK_COMPLETE)$/;
const OUTBOX_COUNT_UP_TO = 10_000;
/** Due items read to find the oldest one (they come sorted by next try, which is close to by age). */
const OLDEST_SCAN = 1_000;

/**
 * The check of a part that could not be read: `unknown`, with the same explanation the other commands give for
 * the same failure (credentials, access denied, unreachable endpoint).
 */
export function unreadable(error: unknown, service: string, action: string): StatusCheck {
  const explained = explainAwsError(error, service, action);
  const reason =
    explained?.message ??
    `${action} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  return { health: 'unknown', summary: reason.split('\n')[0] ?? reason };
}

/**
 * Alarms of the stack that are in ALARM. The stack gives its alarms no names, so CloudFormation names each
 * `<stack name>-<logical id>-<suffix>`: the stack name and a dash is an exact prefix for them (pinned by a test on the
 * synthesized template).
 */
export async function checkAlarms(stackName: string, aws: AwsOptions): Promise<StatusCheck> {
  const client = new CloudWatchClient(awsClientConfig(aws));
  try {
    const alarms: Array<{ name: string; state: string; since?: Date; reason?: string }> = [];
    for await (const page of paginateDescribeAlarms({ client }, { AlarmNamePrefix: `${stackName}-` })) {
      for (const alarm of page.MetricAlarms ?? []) {
        alarms.push({
          name: alarm.AlarmName ?? '?',
          state: alarm.StateValue ?? '?',
          ...(alarm.StateUpdatedTimestamp !== undefined && { since: alarm.StateUpdatedTimestamp }),
          ...(alarm.StateReason !== undefined && { reason: alarm.StateReason }),
        });
      }
    }
    const firing = alarms.filter((alarm) => alarm.state === 'ALARM');
    const data = {
      total: alarms.length,
      inAlarm: firing.map((alarm) => ({
        name: alarm.name,
        since: alarm.since?.toISOString(),
        reason: alarm.reason,
      })),
    };
    if (alarms.length === 0) {
      return { health: 'warn', summary: `no alarms named ${stackName}-… found`, data };
    }
    if (firing.length === 0) return { health: 'ok', summary: `none of ${alarms.length} in ALARM`, data };
    const names = firing
      .map(
        (alarm) =>
          `${shortAlarmName(alarm.name, stackName)}${alarm.since ? ` since ${timestamp(alarm.since.getTime())}` : ''}`,
      )
      .join(', ');
    return { health: 'red', summary: `${firing.length} of ${alarms.length} in ALARM: ${names}`, data };
  } catch (error) {
    return unreadable(error, 'CloudWatch', 'reading the alarms');
  } finally {
    client.destroy();
  }
}

/** `OneioRelay-qa-RelayAlarmsOutboxParked1A2B-XYZ` → `RelayAlarmsOutboxParked1A2B`: the part a person recognises. */
function shortAlarmName(name: string, stackName: string): string {
  const rest = name.startsWith(`${stackName}-`) ? name.slice(stackName.length + 1) : name;
  return rest.replace(/-[A-Za-z0-9]{8,}$/, '');
}

/** Where the metrics of one deployment are: the relay's own, and API Gateway's for the webhook API. */
export interface MetricsScope {
  readonly namespace: string;
  /** The relay's `service` dimension, `oneio-relay-<env>`. */
  readonly serviceName: string;
  /** The HTTP API's id, when the stack's WebhookBaseUrl tells it. */
  readonly apiId?: string;
}

/**
 * The last minute with a webhook (API Gateway's `Count` for the API) and with a delivery (the relay's
 * `MessageDelivered` and `OutboxDelivered`) in the last 24 hours, from one GetMetricData call.
 */
export async function checkTraffic(
  scope: MetricsScope,
  aws: AwsOptions,
  now: number,
): Promise<{ lastWebhook: StatusCheck; lastDelivery: StatusCheck }> {
  const client = new CloudWatchClient(awsClientConfig(aws));
  const relayMetric = (id: string, metricName: string) => ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: scope.namespace,
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: scope.serviceName }],
      },
      Period: 60,
      Stat: 'Sum',
    },
  });
  const queries = [
    relayMetric('delivered', 'MessageDelivered'),
    relayMetric('outboxdelivered', 'OutboxDelivered'),
    ...(scope.apiId === undefined
      ? []
      : [
          {
            Id: 'webhooks',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/ApiGateway',
                MetricName: 'Count',
                Dimensions: [{ Name: 'ApiId', Value: scope.apiId }],
              },
              Period: 60,
              Stat: 'Sum',
            },
          },
        ]),
  ];
  try {
    const latest = new Map<string, number>();
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - METRICS_LOOKBACK_MS),
          EndTime: new Date(now + 60_000),
          ScanBy: 'TimestampDescending',
          MetricDataQueries: queries,
          ...(nextToken !== undefined && { NextToken: nextToken }),
        }),
      );
      for (const result of page.MetricDataResults ?? []) {
        (result.Timestamps ?? []).forEach((time, i) => {
          if ((result.Values?.[i] ?? 0) <= 0 || result.Id === undefined) return;
          latest.set(result.Id, Math.max(latest.get(result.Id) ?? 0, time.getTime()));
        });
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);

    const delivered = Math.max(latest.get('delivered') ?? 0, latest.get('outboxdelivered') ?? 0);
    const webhook = latest.get('webhooks');
    return {
      lastWebhook:
        scope.apiId === undefined
          ? { health: 'unknown', summary: 'the stack has no WebhookBaseUrl output to find the API by' }
          : lastSeen(webhook, now, 'webhook'),
      lastDelivery: lastSeen(delivered === 0 ? undefined : delivered, now, 'delivery'),
    };
  } catch (error) {
    const failed = unreadable(error, 'CloudWatch', 'reading the metrics');
    return { lastWebhook: failed, lastDelivery: failed };
  } finally {
    client.destroy();
  }
}

function lastSeen(at: number | undefined, now: number, what: string): StatusCheck {
  if (at === undefined) return { health: 'ok', summary: `no ${what} in the last 24 h`, data: { at: null } };
  return {
    health: 'ok',
    summary: `${relativeTime(at, now)} (the minute from ${timestamp(at)})`,
    data: { at: new Date(at).toISOString() },
  };
}

/** What the deployed function's configuration tells: its version and what it was configured with. */
export interface DeployedFunction {
  readonly check: StatusCheck;
  /** The function's own variables (never secrets: the secret ids, not their values). */
  readonly environment?: Readonly<Record<string, string>>;
}

export async function checkFunction(functionName: string, aws: AwsOptions): Promise<DeployedFunction> {
  const client = new LambdaClient(awsClientConfig(aws));
  try {
    const fn = await client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    const modified =
      fn.LastModified === undefined ? undefined : Date.parse(fn.LastModified.replace(/\+0000$/, 'Z'));
    const broken = fn.State === 'Failed' || fn.State === 'Inactive' || fn.LastUpdateStatus === 'Failed';
    const summary =
      `${fn.Version ?? '?'} · code ${fn.CodeSha256?.slice(0, 12) ?? '?'}… · ` +
      `${modified === undefined || Number.isNaN(modified) ? 'modified ?' : `deployed ${timestamp(modified)}`} · ` +
      `${fn.State ?? '?'}${fn.LastUpdateStatus && fn.LastUpdateStatus !== 'Successful' ? ` (last update ${fn.LastUpdateStatus})` : ''}`;
    return {
      check: {
        health: broken ? 'red' : fn.LastUpdateStatus === 'InProgress' ? 'warn' : 'ok',
        summary,
        data: {
          functionName,
          version: fn.Version,
          codeSha256: fn.CodeSha256,
          lastModified: fn.LastModified,
          state: fn.State,
          lastUpdateStatus: fn.LastUpdateStatus,
        },
      },
      ...(fn.Environment?.Variables !== undefined && { environment: fn.Environment.Variables }),
    };
  } catch (error) {
    return { check: unreadable(error, 'Lambda', `reading the configuration of function ${functionName}`) };
  } finally {
    client.destroy();
  }
}

export function checkStack(stack: StackDescription): StatusCheck {
  const updated = stack.lastUpdatedTime ?? stack.creationTime;
  return {
    health: FAILED_STACK.test(stack.status) ? 'red' : stack.status.endsWith('_IN_PROGRESS') ? 'warn' : 'ok',
    summary: `${stack.status}${updated ? `, last ${stack.lastUpdatedTime ? 'updated' : 'created'} ${timestamp(updated.getTime())}` : ''}`,
    data: {
      stackName: stack.stackName,
      status: stack.status,
      creationTime: stack.creationTime?.toISOString(),
      lastUpdatedTime: stack.lastUpdatedTime?.toISOString(),
    },
  };
}

/**
 * Due and parked counts and the oldest of each. Parked items or a due item older than `overdueAfterMs` are red,
 * as the OutboxParked and OutboxOverdue alarms are; other due items are normal retry traffic.
 */
export async function checkOutbox(
  outbox: DynamoDbOutbox,
  overdueAfterMs: number,
  now: number,
): Promise<StatusCheck> {
  const [due, parked, dueItems, [oldestParked]] = await Promise.all([
    outbox.count('due', OUTBOX_COUNT_UP_TO),
    outbox.count('parked', OUTBOX_COUNT_UP_TO),
    outbox.list('due', OLDEST_SCAN),
    outbox.list('parked', 1),
  ]);
  const oldestDue = dueItems.length === 0 ? undefined : Math.min(...dueItems.map((item) => item.firstSeenAt));
  const count = (n: number) => (n === OUTBOX_COUNT_UP_TO ? `${n}+` : String(n));
  const parts = [
    due === 0 ? '0 due' : `${count(due)} due (oldest received ${relativeTime(oldestDue ?? now, now)})`,
    parked === 0
      ? '0 parked'
      : `${count(parked)} parked (oldest since ${relativeTime(oldestParked?.dueAt ?? now, now)})`,
  ];
  const overdue = oldestDue !== undefined && now - oldestDue > overdueAfterMs;
  return {
    health: parked > 0 || overdue ? 'red' : due > 0 ? 'warn' : 'ok',
    summary: `${parts.join(' · ')}${overdue ? ` · overdue: older than ${Math.round(overdueAfterMs / 60_000)} min` : ''}`,
    data: {
      due,
      parked,
      oldestDueReceivedAt: oldestDue === undefined ? null : new Date(oldestDue).toISOString(),
      oldestParkedAt: oldestParked === undefined ? null : new Date(oldestParked.dueAt).toISOString(),
    },
  };
}

/**
 * The shared token's expiry and last refresh, read from its item without the token itself: the projection leaves
 * `accessToken` in DynamoDB, so it never even reaches this process.
 */
export async function checkToken(
  client: DynamoDBDocumentClient,
  tableName: string,
  key: string,
  now: number,
): Promise<StatusCheck> {
  const { Item: item } = await client.send(
    new GetCommand({
      TableName: tableName,
      Key: { [TABLE.partitionKey]: key },
      ProjectionExpression: '#issuedAt, #expiresAt, #version, #leaseOwner, #leaseUntil',
      ExpressionAttributeNames: {
        '#issuedAt': 'issuedAt',
        '#expiresAt': 'expiresAt',
        '#version': 'version',
        '#leaseOwner': 'leaseOwner',
        '#leaseUntil': 'leaseUntil',
      },
      ConsistentRead: true,
    }),
  );
  if (item === undefined || typeof item.expiresAt !== 'number') {
    return {
      health: 'warn',
      summary: 'no shared token yet: the first delivery fetches one',
      data: { expiresAt: null, refreshedAt: null },
    };
  }
  const expiresAt = item.expiresAt;
  const refreshedAt = typeof item.issuedAt === 'number' && item.issuedAt > 0 ? item.issuedAt : undefined;
  const refreshing = typeof item.leaseUntil === 'number' && item.leaseUntil > now;
  const expiry =
    expiresAt > now
      ? `expires ${relativeTime(expiresAt, now)} (${timestamp(expiresAt)})`
      : `expired ${relativeTime(expiresAt, now)}: the next delivery refreshes it`;
  return {
    health: expiresAt > now ? 'ok' : 'warn',
    summary:
      `${expiry}, last refresh ${refreshedAt === undefined ? '?' : relativeTime(refreshedAt, now)}` +
      `${refreshing ? ' · a refresh is in progress' : ''}`,
    data: {
      expiresAt: new Date(expiresAt).toISOString(),
      refreshedAt: refreshedAt === undefined ? null : new Date(refreshedAt).toISOString(),
      version: typeof item.version === 'string' ? item.version : null,
      refreshInProgress: refreshing,
    },
  };
}

/**
 * The pause and the circuit breaker, from the destination's one item. A pause is a warning (deliberate; its alarm
 * makes sure nobody forgets it); an open or half-open breaker is red: ONEiO is failing and nothing is delivered.
 * `threshold` (failures that open the breaker), when known, puts a closed breaker's count in context.
 */
export async function checkDestination(
  client: DynamoDBDocumentClient,
  tableName: string,
  now: number,
  threshold?: number,
): Promise<{ paused: StatusCheck; breaker: StatusCheck }> {
  const state = await new DynamoDbDestinationStore(client, tableName).read(DESTINATION_KEY);
  const { pause, breaker } = state;
  const pauseActive = pause !== undefined && (pause.until === undefined || pause.until > now);
  const paused: StatusCheck =
    pause === undefined || !pauseActive
      ? {
          health: 'ok',
          summary:
            pause?.until === undefined
              ? 'no'
              : `no (the last pause, by ${pause.by}, ended ${relativeTime(pause.until, now)})`,
          data: { paused: false },
        }
      : {
          health: 'warn',
          summary:
            `yes, by ${pause.by} since ${timestamp(pause.at)} (${relativeTime(pause.at, now)}), ` +
            `${pause.until === undefined ? 'until resumed' : `until ${timestamp(pause.until)} (${relativeTime(pause.until, now)})`}` +
            `${pause.reason === undefined ? '' : `: ${pause.reason}`}`,
          data: {
            paused: true,
            by: pause.by,
            since: new Date(pause.at).toISOString(),
            until: pause.until === undefined ? null : new Date(pause.until).toISOString(),
            reason: pause.reason ?? null,
          },
        };

  const backoff =
    state.notBefore > now
      ? ` · ONEiO asked to wait until ${timestamp(state.notBefore)} (${relativeTime(state.notBefore, now)})`
      : '';
  // A sweep probes once the cool-down is over and ONEiO's Retry-After too.
  const probeFrom = breaker === undefined ? undefined : Math.max(breaker.openUntil, state.notBefore);
  const data = {
    state: probeFrom === undefined ? 'closed' : now >= probeFrom ? 'half-open' : 'open',
    failures: state.failures,
    openedAt: breaker === undefined ? null : new Date(breaker.openedAt).toISOString(),
    probeFrom: probeFrom === undefined ? null : new Date(probeFrom).toISOString(),
    notBefore: state.notBefore > now ? new Date(state.notBefore).toISOString() : null,
  };
  let summary: string;
  if (breaker === undefined) {
    const failures =
      state.failures === 0
        ? ''
        : ` (${state.failures} failed deliver${state.failures === 1 ? 'y' : 'ies'} in a row${threshold === undefined ? '' : `; opens at ${threshold}`})`;
    summary = `closed${failures}${backoff}`;
  } else {
    const since = `since ${timestamp(breaker.openedAt)} (${relativeTime(breaker.openedAt, now)})`;
    const probeAt = probeFrom ?? breaker.openUntil;
    summary =
      now >= probeAt
        ? `half-open, open ${since}: the next sweep probes ONEiO with one message${backoff}`
        : `open ${since}, ONEiO kept failing; probe from ${timestamp(probeAt)} (${relativeTime(probeAt, now)})${backoff}`;
  }
  return {
    paused,
    breaker: { health: breaker !== undefined ? 'red' : backoff !== '' ? 'warn' : 'ok', summary, data },
  };
}
