/// <reference lib="dom" />
// The functions passed to page.evaluate / waitForFunction run in the page: they are typed against the DOM.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Browser, HTTPResponse, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TABLE } from '../../functions/relay/contract';
import { createLocalDynamoDbClient } from '../../infra/local/dynamodb-local';
import { sampleSigningSecret } from '../../infra/sandbox/sample-webhook';
import { readSandboxState } from '../../infra/sandbox/sandbox-state';
import {
  commandLine,
  descendantsOf,
  isRunning,
  type SandboxProcess,
  spawnSandbox,
} from '../sandbox/sandbox-process';
import { launchChromium } from './headless-chromium';

const READY = /Ready in [\d.]+ s: (http:\/\/127\.0\.0\.1:\d+)/;
const OUTPUT_DIR = path.join(__dirname, 'output');
/** Generous for a loaded 2-core machine; every wait is on a condition, never a fixed sleep. */
const WAIT_MS = 30_000;

/**
 * The sandbox's inspector page in a real headless Chromium, driven like a person would: send a sample and see
 * what ONEiO received, make ONEiO fail and watch the message queued and parked, redrive it and see it delivered.
 * Every network answer and the whole page are searched for secrets and the token at the end.
 */
describe('sandbox inspector page', () => {
  let dir: string;
  let sandbox: SandboxProcess;
  let url: string;
  let browser: Browser;
  let page: Page;
  const responses: Array<Promise<{ url: string; text: string }>> = [];
  let stateFile: string;
  const tableName = `inspector-${randomUUID()}`;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'oneio-relay-inspector-'));
    stateFile = path.join(dir, 'state.json');
    sandbox = spawnSandbox(
      // The run's DynamoDB Local (no second Java); a sweep every second so a redriven message goes out at once.
      [
        '--port',
        '0',
        '--sweep-interval',
        '1',
        '--dynamodb-endpoint',
        inject('dynamodbEndpoint'),
        '--table',
        tableName,
      ],
      { ONEIO_RELAY_SANDBOX_STATE: stateFile },
    );
    [, url = ''] = await sandbox.waitFor(READY, 60_000);
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('dialog', (dialog) => dialog.accept());
    page.on('response', (response: HTTPResponse) => {
      // The event stream never ends; what it carries is only a "something changed" signal.
      if (response.headers()['content-type']?.startsWith('text/event-stream')) return;
      responses.push(
        response.text().then(
          (text) => ({ url: response.url(), text }),
          () => ({ url: response.url(), text: '' }),
        ),
      );
    });
  }, 120_000);

  afterAll(async () => {
    const browserPid = browser?.process()?.pid;
    const started = [
      ...(browserPid === undefined ? [] : [browserPid, ...descendantsOf(browserPid)]),
      ...descendantsOf(sandbox?.child.pid ?? -1),
    ];
    await browser?.close();
    if (sandbox && sandbox.child.exitCode === null && sandbox.child.signalCode === null) {
      sandbox.child.kill('SIGINT');
      await sandbox.exited;
    }
    for (let i = 0; i < 100 && started.some(isRunning); i++) await sleep(100);
    rmSync(dir, { recursive: true, force: true });
    // Neither Chromium nor anything the sandbox started may outlive the test.
    expect(started.filter(isRunning).map(commandLine)).toEqual([]);
  }, 60_000);

  /** The list row of the newest request for which `predicate` holds, once it shows. */
  async function waitForRow(outcome: string, exclude: readonly string[] = []): Promise<string> {
    const handle = await page.waitForFunction(
      (wanted: string, seen: readonly string[]) =>
        [...document.querySelectorAll<HTMLElement>('#activity tbody tr')].find(
          (row) => row.dataset.outcome === wanted && !seen.includes(row.dataset.id ?? ''),
        )?.dataset.id,
      { timeout: WAIT_MS },
      outcome,
      exclude,
    );
    return String(await handle.jsonValue());
  }

  /**
   * Clicks the first element matching `selector` once it is there, in one step inside the page: the live list is
   * redrawn on every change, so a node found in one call may be replaced before a second call clicks it.
   */
  async function click(selector: string): Promise<void> {
    await page.waitForFunction(
      (s: string) => {
        const node = document.querySelector<HTMLElement>(s);
        node?.click();
        return node !== null;
      },
      {},
      selector,
    );
  }

  async function switchOneio(mode: string): Promise<void> {
    await click(`#oneio-switch button[data-mode="${mode}"]`);
    await page.waitForSelector(`#oneio-switch button[data-mode="${mode}"][aria-pressed="true"]`);
  }

  async function sendSample(): Promise<void> {
    await page.$eval('#sample-answer', (output) => {
      output.textContent = '';
    });
    await page.click('#sample-form button[type="submit"]');
    await page.waitForFunction(() =>
      /^\d{3} /.test(document.querySelector('#sample-answer')?.textContent ?? ''),
    );
  }

  async function relayIdOf(rowId: string): Promise<string> {
    return page.$eval(
      `#activity tr[data-id="${rowId}"] td:nth-child(5)`,
      (cell) => cell.getAttribute('title') ?? '',
    );
  }

  it('shows a sample delivered, with the headers ONEiO received and the token masked', async () => {
    await page.goto(`${url}/`);
    await page.waitForSelector('#live.on');
    await page.select('#sample-source', 'github');

    await sendSample();
    const row = await waitForRow('delivered');
    await click(`#activity tr[data-id="${row}"]`);
    await page.waitForSelector('#received [data-testid="oneio-attempt"]');

    const sender = await page.$eval('#sender', (node) => node.textContent ?? '');
    const received = await page.$eval('#received', (node) => node.textContent ?? '');
    expect(sender).toContain('x-github-delivery');
    expect(sender).toContain('x-hub-signature-256••••••');
    expect(received).toContain('POST /api/v2');
    expect(received).toContain('authorizationBearer ••••••');
    expect(received).toContain('content-typeapplication/json');
    expect(received).toContain('answered 200');
    expect(received).toContain('byte-identical');
    // The environment that handled this first request fetched the token (on a busy machine the sandbox's sweep
    // may hold environment #1 at that moment, so the number is read from the row, not assumed).
    const environment = await page.$eval(`#activity tr[data-id="${row}"]`, (node) =>
      node.getAttribute('data-environment'),
    );
    expect(environment).toMatch(/^\d+$/);
    // The page fetches the activity and the token panel side by side: the row can show before the panel does.
    await page.waitForFunction(() =>
      /#\d+$/.test(document.querySelector('#token [data-field="fetched by"]')?.textContent ?? ''),
    );
    expect(await page.$eval('#token [data-field="fetched by"]', (node) => node.textContent)).toBe(
      `execution environment #${environment}`,
    );
    // The pause and the breaker, as `oneio-relay status --sandbox` words them.
    await page.waitForSelector('#destination [data-field="breaker"]');
    expect(await page.$$eval('#destination dd', (cells) => cells.map((cell) => cell.textContent))).toEqual([
      'no',
      'closed',
    ]);
    // The terminal says the same in one line.
    await sandbox.waitFor(
      /\d\d:\d\d:\d\d {2}POST \/webhooks\/github {2}200 delivered {2}relay [0-9a-f]{8}… {2}\d+ ms/,
    );
  }, 90_000);

  it('queues a message while ONEiO answers 503, parks one it refuses, and delivers the parked one once redriven', async () => {
    // ONEiO down: the call retries for its budget, then the outbox keeps the message.
    await switchOneio('503');
    await sendSample();
    const queued = await waitForRow('queued');
    const queuedId = await relayIdOf(queued);
    await page.waitForSelector(`#outbox tr[data-relay-id="${queuedId}"][data-state="due"]`);

    // ONEiO refuses the message for good: parked at once.
    await switchOneio('400');
    await sendSample();
    const parked = await waitForRow('parked');
    const parkedId = await relayIdOf(parked);
    await page.waitForSelector(`#outbox tr[data-relay-id="${parkedId}"][data-state="parked"]`);

    // ONEiO is back; the operator redrives the parked message and the sweep delivers it.
    await switchOneio('normal');
    await click(`#outbox tr[data-relay-id="${parkedId}"] button:first-of-type`);
    await page.waitForFunction(
      (id: string) =>
        document.querySelector('#outbox-message')?.textContent?.startsWith(`Redriven: ${id} is due now`),
      {},
      parkedId,
    );
    await page.waitForSelector(`#activity tr[data-id="${parked}"][data-outcome="delivered"]`);
    expect(
      await page.$eval(`#activity tr[data-id="${parked}"] td:nth-child(4)`, (cell) => cell.textContent),
    ).toBe('parked → delivered');
    await page.waitForFunction(
      (id: string) => !document.querySelector(`#outbox tr[data-relay-id="${id}"]`),
      {},
      parkedId,
    );

    // The queued one is purged (the page asks first; the dialog is accepted).
    await click(`#outbox tr[data-relay-id="${queuedId}"] button:last-of-type`);
    await page.waitForFunction(
      (id: string) => document.querySelector('#outbox-message')?.textContent === `Purged ${id}.`,
      {},
      queuedId,
    );
    await page.waitForSelector('#outbox-empty:not([hidden])');
    await click(`#activity tr[data-id="${parked}"]`);
    const received = await page.$eval('#received', (node) => node.textContent ?? '');
    expect(received).toContain('answered 400');
    expect(received).toContain('outbox sweep · answered 200');

    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'inspector.png'), fullPage: false });
  }, 120_000);

  it('has no secret and no token anywhere in the page or in any answer it received', async () => {
    const state = readSandboxState(stateFile);
    const client = createLocalDynamoDbClient(inject('dynamodbEndpoint'));
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: { [TABLE.partitionKey]: state?.tokenKey ?? '' } }),
    );
    client.destroy();
    const token = String(Item?.accessToken ?? '');
    expect(token.length).toBeGreaterThan(20);
    const secrets = [
      token,
      sampleSigningSecret('github'),
      sampleSigningSecret('stripe'),
      'sandbox-client-secret',
    ];

    const dom = await page.evaluate(
      () =>
        document.documentElement.outerHTML +
        [...document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, textarea')]
          .map((field) => field.value)
          .join('\n'),
    );
    const answers = await Promise.all(responses);

    expect(answers.some((answer) => answer.url.endsWith('/inspector/api/activity'))).toBe(true);
    for (const secret of secrets) {
      expect(dom).not.toContain(secret);
      expect(answers.filter((answer) => answer.text.includes(secret)).map((answer) => answer.url)).toEqual(
        [],
      );
    }
    expect(sandbox.stdout()).not.toContain(token);
  });
});
