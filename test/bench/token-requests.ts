import { randomUUID } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { TokenSource } from '../../functions/relay/core/delivery/deliver';
import { NO_OUTBOX, relay } from '../../functions/relay/core/relay';
import { TokenManager } from '../../functions/relay/core/token/token-manager';
import { InMemoryTokenStore } from '../../functions/relay/io/memory/token-store';
import { createHttpAgent } from '../../functions/relay/io/oneio/http-agent';
import { OneioReceiver } from '../../functions/relay/io/oneio/receiver';
import { OneioTokenEndpoint } from '../../functions/relay/io/oneio/token-endpoint';
import { SecretsManagerCredentialsProvider } from '../../functions/relay/io/secrets-manager/credentials-provider';
import { JsonSecret } from '../../functions/relay/io/secrets-manager/json-secret';
import type { CredentialsProvider } from '../../functions/relay/ports/credentials-provider';
import type { TokenEndpoint } from '../../functions/relay/ports/oneio';
import type { SharedToken } from '../../functions/relay/ports/token-store';
import { lambdaContext } from '../support/lambda-context';
import { type BenchFleet, CREDENTIALS_SECRET_ID, signedWebhook } from './bench-fleet';
import type { Row } from './table';

const DELIVERIES = 1_000;
export const ENVIRONMENT_COUNTS = [1, 8, 32] as const;
const BUDGET_MS = 8_000;

type Strategy = 'relay' | 'cache per instance' | 'token per delivery';

/** One environment of a strategy: delivers a body, resolves whether it reached ONEiO. */
interface Deliverer {
  deliver(body: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The baseline nobody should ship: every delivery asks the token endpoint first. */
class TokenPerDelivery implements TokenSource {
  constructor(
    private readonly endpoint: TokenEndpoint,
    private readonly credentials: CredentialsProvider,
  ) {}

  async get(deadline: number): Promise<SharedToken> {
    const sentAt = Date.now();
    const issued = await this.endpoint.requestToken(await this.credentials.get(), {
      signal: AbortSignal.timeout(Math.max(1, deadline - sentAt)),
    });
    return {
      accessToken: issued.accessToken,
      issuedAt: sentAt,
      expiresAt: sentAt + issued.expiresInSeconds * 1000,
      version: randomUUID(),
    };
  }

  async invalidate(): Promise<boolean> {
    return true;
  }
}

/**
 * The two baselines use the relay's own pieces (token endpoint and receiver clients, cached credentials,
 * `relay()`), so only the token strategy differs: "cache per instance" is the relay's TokenManager over a store
 * that shares nothing (an in-memory one per environment); "token per delivery" fetches before every POST.
 */
function baseline(fleet: BenchFleet, strategy: Exclude<Strategy, 'relay'>): Deliverer {
  const agent = createHttpAgent();
  const secrets = new SecretsManagerClient({ maxAttempts: 2 });
  const credentials = new SecretsManagerCredentialsProvider(new JsonSecret(secrets, CREDENTIALS_SECRET_ID));
  const endpoint = new OneioTokenEndpoint(fleet.oneio.tokenUrl, agent);
  const tokens: TokenSource =
    strategy === 'cache per instance'
      ? new TokenManager({ key: 'bench', store: new InMemoryTokenStore(), endpoint, credentials })
      : new TokenPerDelivery(endpoint, credentials);
  const receiver = new OneioReceiver(fleet.oneio.receiverUrl, agent);
  return {
    async deliver(body) {
      const message = {
        relayId: randomUUID(),
        source: 'github',
        deliveryId: randomUUID(),
        body,
        receivedAt: Date.now(),
      };
      const result = await relay(message, Date.now() + BUDGET_MS, {
        tokens: { forEndpoint: () => tokens },
        receiver,
        sink: NO_OUTBOX,
      });
      return result.status === 'delivered';
    },
    async close() {
      secrets.destroy();
      await agent.close();
    },
  };
}

/** The relay as deployed: the function's composition root, one fresh environment each, one shared table. */
function relayEnvironment(fleet: BenchFleet, tableName: string): Deliverer {
  const environment = fleet.environment(tableName);
  return {
    async deliver(body) {
      const response = await environment.handle(signedWebhook(body), lambdaContext());
      return response?.statusCode === 200;
    },
    close: () => environment.close(),
  };
}

/**
 * Runs `total` deliveries across the environments: each handles its share one invocation at a time (as Lambda
 * does), the environments side by side. Resolves how many were delivered.
 */
export async function spread(
  environments: readonly { deliver(body: string): Promise<boolean> }[],
  total: number,
  label: string,
): Promise<number> {
  const delivered = await Promise.all(
    environments.map(async (environment, index) => {
      let ok = 0;
      for (let i = index; i < total; i += environments.length) {
        if (await environment.deliver(JSON.stringify({ bench: label, i, at: Date.now() }))) ok++;
      }
      return ok;
    }),
  );
  return delivered.reduce((a, b) => a + b, 0);
}

export interface TokenRequestFigures {
  readonly environments: number;
  readonly strategy: Strategy;
  readonly deliveries: number;
  readonly delivered: number;
  readonly tokenRequests: number;
}

/** Token endpoint requests per 1,000 deliveries from a cold fleet (empty table, no token anywhere). */
export async function measureTokenRequests(
  fleet: BenchFleet,
  progress: (line: string) => void,
): Promise<{ rows: Row[]; figures: TokenRequestFigures[] }> {
  const figures: TokenRequestFigures[] = [];
  for (const environments of ENVIRONMENT_COUNTS) {
    for (const strategy of ['relay', 'cache per instance', 'token per delivery'] as const) {
      const tableName = await fleet.newTable();
      const fleetOf = Array.from({ length: environments }, () =>
        strategy === 'relay' ? relayEnvironment(fleet, tableName) : baseline(fleet, strategy),
      );
      const before = fleet.oneio.tokenRequests.count;
      const delivered = await spread(fleetOf, DELIVERIES, `${strategy}-${environments}`);
      const tokenRequests = fleet.oneio.tokenRequests.count - before;
      await Promise.all(fleetOf.map((d) => d.close()));
      figures.push({ environments, strategy, deliveries: DELIVERIES, delivered, tokenRequests });
      progress(`  ${strategy}, ${environments} environment(s): ${tokenRequests} token requests`);
    }
  }

  const rows = ENVIRONMENT_COUNTS.map((environments): Row => {
    const of = (strategy: Strategy) =>
      figures.find((f) => f.environments === environments && f.strategy === strategy);
    const relayed = of('relay');
    const perInstance = of('cache per instance');
    const perDelivery = of('token per delivery');
    const per1000 = (f: TokenRequestFigures | undefined) =>
      f === undefined ? Number.NaN : (f.tokenRequests * 1000) / f.deliveries;
    const allDelivered = figures
      .filter((f) => f.environments === environments)
      .every((f) => f.delivered === f.deliveries);
    return {
      section: `Token endpoint requests per ${DELIVERIES.toLocaleString('en')} deliveries, cold fleet (empty table)`,
      figure: `${environments} environment${environments === 1 ? '' : 's'}${allDelivered ? '' : ' (NOT ALL DELIVERED)'}`,
      relay: String(per1000(relayed)),
      baseline: `per instance ${per1000(perInstance)} · per delivery ${per1000(perDelivery)}`,
      ratio: `1 : ${per1000(perInstance) / per1000(relayed)} : ${per1000(perDelivery) / per1000(relayed)}`,
      goal: '≤ 1',
      met: per1000(relayed) <= 1 && allDelivered,
    };
  });
  return { rows, figures };
}
