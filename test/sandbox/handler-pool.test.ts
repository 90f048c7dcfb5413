import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { RelayHandler } from '../../functions/relay/app';
import { type ExecutionEnvironment, HandlerPool } from '../../infra/sandbox/handler-pool';

/** Execution environments as Lambda runs them: one invocation each at a time, reused when idle, capped. */
describe('HandlerPool', () => {
  function pool(max: number) {
    const created: number[] = [];
    const disposed: number[] = [];
    const running = new Map<number, number>();
    let maxOverlapPerEnvironment = 0;
    const handlers = new HandlerPool({
      maxEnvironments: max,
      create: (id): ExecutionEnvironment => {
        created.push(id);
        const handler: RelayHandler = async () => {
          running.set(id, (running.get(id) ?? 0) + 1);
          maxOverlapPerEnvironment = Math.max(maxOverlapPerEnvironment, running.get(id) ?? 0);
          await new Promise((resolve) => setTimeout(resolve, 20));
          running.set(id, (running.get(id) ?? 1) - 1);
          return { statusCode: 200, body: String(id) } satisfies APIGatewayProxyStructuredResultV2;
        };
        return { handler, dispose: async () => void disposed.push(id) };
      },
    });
    const call = async () => {
      const result = await handlers.invoke((handler) => handler({}, {} as never));
      return Number(result?.body);
    };
    return { handlers, call, created, disposed, overlap: () => maxOverlapPerEnvironment };
  }

  it('reuses an idle environment instead of creating one', async () => {
    const { call, created } = pool(5);

    const first = await call();
    const second = await call();

    expect(created).toEqual([1]);
    expect(second).toBe(first);
  });

  it('creates one environment per concurrent invocation, up to the limit, then queues', async () => {
    const { call, created, overlap } = pool(3);

    const served = await Promise.all(Array.from({ length: 7 }, call));

    expect(created).toEqual([1, 2, 3]);
    expect(new Set(served)).toEqual(new Set([1, 2, 3]));
    expect(overlap()).toBe(1);
  });

  it('disposes every environment on close and refuses new invocations', async () => {
    const { handlers, call, disposed } = pool(2);
    await Promise.all([call(), call()]);

    await handlers.close(100);

    expect(disposed.sort()).toEqual([1, 2]);
    await expect(call()).rejects.toThrow('The sandbox is stopping');
  });

  it('retries the cold start when an environment fails to initialise', async () => {
    let attempts = 0;
    const handlers = new HandlerPool({
      maxEnvironments: 1,
      create: () => {
        attempts += 1;
        if (attempts === 1) throw new Error('init failed');
        return { handler: async () => ({ statusCode: 204 }), dispose: async () => {} };
      },
    });

    await expect(handlers.invoke((handler) => handler({}, {} as never))).rejects.toThrow('init failed');
    await expect(handlers.invoke((handler) => handler({}, {} as never))).resolves.toEqual({
      statusCode: 204,
    });
  });
});
