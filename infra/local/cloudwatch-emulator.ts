import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { serveOnLoopback } from './loopback-server';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** One metric alarm as DescribeAlarms reports it (the fields the relay's tools read, and a few for realism). */
export interface EmulatedAlarm {
  readonly name: string;
  readonly state: AlarmState;
  /** @default a sentence like CloudWatch's */
  readonly reason?: string;
  /** @default now */
  readonly updatedAt?: Date;
  readonly description?: string;
  readonly namespace?: string;
  readonly metricName?: string;
}

/** One datapoint as the metric's publisher (e.g. an embedded-metric log line) would put it. */
export interface EmulatedDatapoint {
  readonly namespace: string;
  readonly metricName: string;
  /** A metric is identified by exactly these dimensions, as in CloudWatch. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly timestamp: Date;
  readonly value: number;
}

export interface CloudWatchEmulatorOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Used in alarm ARNs only. Default `us-east-1`. */
  readonly region?: string;
}

export interface CloudWatchEmulator {
  /** `http://127.0.0.1:<port>`, for `endpoint` or `AWS_ENDPOINT_URL_CLOUDWATCH`. */
  readonly url: string;
  /** Requests received per action (`DescribeAlarms`, `GetMetricData`, …), failed ones included. */
  readonly calls: Readonly<Record<string, number>>;
  /** Creates or replaces an alarm. */
  setAlarm(alarm: EmulatedAlarm): void;
  putDatapoint(datapoint: EmulatedDatapoint): void;
  close(): Promise<void>;
}

/** The JSON target prefix of CloudWatch's operations (its Smithy service shape name). */
const TARGET_PREFIX = 'GraniteServiceVersion20100801.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const MAX_ALARM_RECORDS = 100;
const DEFAULT_ALARM_RECORDS = 50;
/** GetMetricData's limit on datapoints per call; a longer answer is paged with NextToken. */
const MAX_DATAPOINTS = 100_800;
const STATISTICS = ['Sum', 'Maximum', 'Minimum', 'Average', 'SampleCount'] as const;
type Statistic = (typeof STATISTICS)[number];

/**
 * A local stand-in for the two CloudWatch reads the CLI makes, DescribeAlarms and GetMetricData, speaking what
 * `@aws-sdk/client-cloudwatch` speaks since CloudWatch moved off the Query protocol: AWS JSON 1.0 (`POST /`,
 * `X-Amz-Target: GraniteServiceVersion20100801.<Action>`, timestamps as epoch seconds), query-compatible errors
 * (`x-amzn-query-error: <Code>;Sender`). Datapoints are aggregated into periods as CloudWatch does: buckets aligned
 * to the period, one value per bucket with data, newest first unless asked otherwise.
 */
export async function startCloudWatchEmulator(
  options: CloudWatchEmulatorOptions = {},
): Promise<CloudWatchEmulator> {
  const region = options.region ?? 'us-east-1';
  const alarms = new Map<string, EmulatedAlarm & { updatedAt: Date }>();
  const datapoints: EmulatedDatapoint[] = [];
  const calls: Record<string, number> = {};

  const actions: Record<string, (input: Record<string, unknown>) => unknown> = {
    DescribeAlarms: (input) => describeAlarms([...alarms.values()], input, region),
    GetMetricData: (input) => getMetricData(datapoints, input),
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const raw = await readBody(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : 'Unknown';
    calls[action] = (calls[action] ?? 0) + 1;
    if (request.method !== 'POST' || request.headers['content-type'] !== CONTENT_TYPE) {
      return sendError(response, 400, 'InvalidAction', `Send POST / with Content-Type ${CONTENT_TYPE}.`);
    }
    if (!String(request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
      return sendError(
        response,
        403,
        'MissingAuthenticationToken',
        'Request is missing Authentication Token',
      );
    }
    const run = actions[action];
    if (run === undefined) {
      return sendError(
        response,
        400,
        'UnknownOperationException',
        `${target || 'No target'} is not emulated.`,
      );
    }
    let input: Record<string, unknown>;
    try {
      const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      input = JSON.parse(text === '' ? '{}' : text) as Record<string, unknown>;
    } catch {
      return sendError(response, 400, 'SerializationException', 'The request body is not JSON.');
    }
    try {
      send(response, 200, run(input));
    } catch (error) {
      if (!(error instanceof InvalidParameter)) throw error;
      sendError(response, 400, 'InvalidParameterValue', error.message);
    }
  };

  const server = await serveOnLoopback(
    handle,
    (response) => sendError(response, 500, 'InternalServiceError', 'Emulator error.'),
    options.port,
  );

  return {
    url: server.url,
    calls,
    setAlarm(alarm) {
      alarms.set(alarm.name, { ...alarm, updatedAt: alarm.updatedAt ?? new Date() });
    },
    putDatapoint(datapoint) {
      datapoints.push({ ...datapoint, dimensions: { ...datapoint.dimensions } });
    },
    close: () => server.close(),
  };
}

class InvalidParameter extends Error {}

function describeAlarms(
  all: ReadonlyArray<EmulatedAlarm & { updatedAt: Date }>,
  input: Record<string, unknown>,
  region: string,
): unknown {
  const names = optionalStrings(input.AlarmNames, 'AlarmNames');
  const prefix = optionalString(input.AlarmNamePrefix, 'AlarmNamePrefix');
  if (names !== undefined && prefix !== undefined) {
    throw new InvalidParameter('AlarmNames and AlarmNamePrefix cannot be used together.');
  }
  const state = optionalString(input.StateValue, 'StateValue');
  if (state !== undefined && !['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(state)) {
    throw new InvalidParameter(`StateValue ${state} is not one of OK, ALARM, INSUFFICIENT_DATA.`);
  }
  const types = optionalStrings(input.AlarmTypes, 'AlarmTypes');
  const max = integer(input.MaxRecords, 'MaxRecords', 1, MAX_ALARM_RECORDS) ?? DEFAULT_ALARM_RECORDS;
  const start = pageStart(input.NextToken);

  const matching =
    types !== undefined && !types.includes('MetricAlarm')
      ? []
      : all
          .filter((alarm) => names === undefined || names.includes(alarm.name))
          .filter((alarm) => prefix === undefined || alarm.name.startsWith(prefix))
          .filter((alarm) => state === undefined || alarm.state === state)
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const page = matching.slice(start, start + max);
  return {
    MetricAlarms: page.map((alarm) => ({
      AlarmName: alarm.name,
      AlarmArn: `arn:aws:cloudwatch:${region}:000000000000:alarm:${alarm.name}`,
      ...(alarm.description !== undefined && { AlarmDescription: alarm.description }),
      StateValue: alarm.state,
      StateReason: alarm.reason ?? `Threshold Crossed: alarm is ${alarm.state}`,
      StateUpdatedTimestamp: alarm.updatedAt.getTime() / 1000,
      ...(alarm.namespace !== undefined && { Namespace: alarm.namespace }),
      ...(alarm.metricName !== undefined && { MetricName: alarm.metricName }),
      ActionsEnabled: true,
    })),
    CompositeAlarms: [],
    ...(start + max < matching.length && { NextToken: String(start + max) }),
  };
}

function getMetricData(all: readonly EmulatedDatapoint[], input: Record<string, unknown>): unknown {
  const startTime = epochSeconds(input.StartTime, 'StartTime');
  const endTime = epochSeconds(input.EndTime, 'EndTime');
  if (endTime <= startTime) throw new InvalidParameter('The parameter StartTime must be less than EndTime.');
  const scanBy = optionalString(input.ScanBy, 'ScanBy') ?? 'TimestampDescending';
  if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending') {
    throw new InvalidParameter(`ScanBy ${scanBy} is not TimestampDescending or TimestampAscending.`);
  }
  if (!Array.isArray(input.MetricDataQueries) || input.MetricDataQueries.length === 0) {
    throw new InvalidParameter('MetricDataQueries must be a non-empty list.');
  }
  const limit = integer(input.MaxDatapoints, 'MaxDatapoints', 1, MAX_DATAPOINTS) ?? MAX_DATAPOINTS;

  const results = input.MetricDataQueries.map((query: unknown) => {
    const { id, label, period, stat, metric, returnData } = parseQuery(query);
    const buckets = new Map<number, number[]>();
    for (const point of all) {
      const at = point.timestamp.getTime() / 1000;
      if (at < startTime || at >= endTime || !sameMetric(point, metric)) continue;
      const bucket = Math.floor(at / period) * period;
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), point.value]);
    }
    const times = [...buckets.keys()].sort((a, b) => (scanBy === 'TimestampAscending' ? a - b : b - a));
    return {
      returnData,
      result: {
        Id: id,
        Label: label ?? metric.metricName,
        Timestamps: times,
        Values: times.map((time) => aggregate(buckets.get(time) ?? [], stat)),
        StatusCode: 'Complete',
      },
    };
  });
  // Paging over the concatenated datapoints: NextToken is how many were already returned.
  let skip = pageStart(input.NextToken);
  let room = limit;
  const page: unknown[] = [];
  let more = false;
  for (const { result, returnData } of results) {
    if (!returnData) continue;
    const from = Math.min(skip, result.Timestamps.length);
    skip -= from;
    const take = Math.min(room, result.Timestamps.length - from);
    room -= take;
    if (from + take < result.Timestamps.length) more = true;
    page.push({
      ...result,
      Timestamps: result.Timestamps.slice(from, from + take),
      Values: result.Values.slice(from, from + take),
      StatusCode: from + take < result.Timestamps.length ? 'PartialData' : 'Complete',
    });
  }
  const returned = pageStart(input.NextToken) + (limit - room);
  return { MetricDataResults: page, Messages: [], ...(more && { NextToken: String(returned) }) };
}

interface ParsedQuery {
  readonly id: string;
  readonly label?: string;
  readonly period: number;
  readonly stat: Statistic;
  readonly returnData: boolean;
  readonly metric: { namespace: string; metricName: string; dimensions: Record<string, string> };
}

function parseQuery(query: unknown): ParsedQuery {
  const q = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  const id = optionalString(q.Id, 'Id');
  if (id === undefined || !/^[a-z][a-zA-Z0-9_]*$/.test(id)) {
    throw new InvalidParameter('Each query needs an Id that starts with a lower-case letter.');
  }
  if (q.Expression !== undefined) throw new InvalidParameter('Metric math expressions are not emulated.');
  const metricStat = (q.MetricStat ?? {}) as Record<string, unknown>;
  const metric = (metricStat.Metric ?? {}) as Record<string, unknown>;
  const namespace = optionalString(metric.Namespace, 'Namespace');
  const metricName = optionalString(metric.MetricName, 'MetricName');
  if (namespace === undefined || metricName === undefined) {
    throw new InvalidParameter(`Query ${id} needs MetricStat.Metric with Namespace and MetricName.`);
  }
  const period = integer(metricStat.Period, 'Period', 1, 86_400 * 365);
  if (period === undefined || (period >= 60 && period % 60 !== 0)) {
    throw new InvalidParameter(`Query ${id}: Period must be 1, 5, 10, 30 or a multiple of 60 seconds.`);
  }
  const stat = optionalString(metricStat.Stat, 'Stat');
  if (stat === undefined || !(STATISTICS as readonly string[]).includes(stat)) {
    throw new InvalidParameter(`Query ${id}: Stat must be one of ${STATISTICS.join(', ')}.`);
  }
  const dimensions: Record<string, string> = {};
  for (const dimension of Array.isArray(metric.Dimensions) ? metric.Dimensions : []) {
    const { Name, Value } = dimension as Record<string, unknown>;
    if (typeof Name !== 'string' || typeof Value !== 'string') {
      throw new InvalidParameter(`Query ${id}: each dimension needs a Name and a Value.`);
    }
    dimensions[Name] = Value;
  }
  const label = optionalString(q.Label, 'Label');
  return {
    id,
    ...(label !== undefined && { label }),
    period,
    stat: stat as Statistic,
    returnData: q.ReturnData !== false,
    metric: { namespace, metricName, dimensions },
  };
}

function sameMetric(point: EmulatedDatapoint, metric: ParsedQuery['metric']): boolean {
  const names = Object.keys(point.dimensions);
  return (
    point.namespace === metric.namespace &&
    point.metricName === metric.metricName &&
    names.length === Object.keys(metric.dimensions).length &&
    names.every((name) => metric.dimensions[name] === point.dimensions[name])
  );
}

function aggregate(values: readonly number[], stat: Statistic): number {
  switch (stat) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SampleCount':
      return values.length;
  }
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidParameter(`${name} must be a string.`);
  return value;
}

function optionalStrings(value: unknown, name: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new InvalidParameter(`${name} must be a list of strings.`);
  }
  return value;
}

function integer(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidParameter(`${name} must be an integer from ${min} to ${max}.`);
  }
  return value;
}

/** AWS JSON 1.0 sends timestamps as epoch seconds (a number, possibly with a fraction). */
function epochSeconds(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidParameter(`${name} must be a timestamp in epoch seconds.`);
  }
  return value;
}

function pageStart(token: unknown): number {
  if (token === undefined || token === null) return 0;
  if (typeof token !== 'string' || !/^\d+$/.test(token)) throw new InvalidParameter('Invalid NextToken.');
  return Number(token);
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  response.setHeader('x-amzn-query-error', `${code};Sender`);
  send(response, status, { __type: `com.amazonaws.cloudwatch#${code}`, message });
}

function send(response: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
