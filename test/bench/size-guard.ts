/**
 * `npm run bench:size-guard`: what the check for values ONEiO would cut (`oversizedAttributes`) costs per accepted
 * webhook, against the `JSON.parse` of the same body that the relay does anyway. Prints a table; takes seconds.
 *
 * "as deployed" is the check as the gate runs it: a body too short to hold a 300,000-character value is not walked,
 * which is every body under the default 256 KiB limit. "walk" forces the walk (a limit just under the body's
 * length), which is what a body over ~293 KiB costs when `maxBodyBytes` is raised towards its 380 KiB maximum.
 */
import {
  ONEIO_ATTRIBUTE_LIMIT,
  oversizedAttributes,
} from '../../functions/relay/core/inbound/oversized-attributes';
import { median } from './stats';
import { type Row, renderTable } from './table';

/** A GitHub `issues` delivery of about 0.5 KB, the typical webhook. */
function typicalBody(): string {
  return JSON.stringify({
    action: 'opened',
    issue: {
      id: 1347,
      number: 1347,
      title: 'Found a bug',
      state: 'open',
      body: "I'm having a problem with this.",
      user: { login: 'octocat', id: 1, type: 'User', site_admin: false },
      labels: [{ id: 208045946, name: 'bug', color: 'f29513', default: true }],
      created_at: '2011-04-22T13:33:48Z',
      updated_at: '2011-04-22T13:33:48Z',
      html_url: 'https://github.com/octocat/Hello-World/issues/1347',
    },
    repository: { id: 1296269, name: 'Hello-World', full_name: 'octocat/Hello-World', private: false },
    sender: { login: 'octocat', id: 1 },
  });
}

/** A body of about `bytes`: a ticket export with many comments, the shape of a large ITSM webhook. */
function largeBody(bytes: number, longValue = 0): string {
  const comments: unknown[] = [];
  const ticket = {
    id: 'INC0012345',
    short_description: 'Printer on fire',
    comments,
    attachment: 'x'.repeat(longValue),
  };
  let size = JSON.stringify(ticket).length;
  for (let i = 0; size < bytes; i++) {
    const comment = {
      id: i,
      author: `agent-${i % 7}`,
      created: '2024-03-12T19:03:58Z',
      text: `Comment ${i}: ${'lorem ipsum '.repeat(8)}`,
    };
    comments.push(comment);
    size += JSON.stringify(comment).length + 1;
  }
  return JSON.stringify(ticket);
}

/** Median microseconds per call of `fn`, over batches long enough for the timer. */
function microseconds(fn: () => unknown): number {
  const batch = 20;
  for (let i = 0; i < batch * 5; i++) fn();
  const samples: number[] = [];
  const until = performance.now() + 1_500;
  while (performance.now() < until || samples.length < 10) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) fn();
    samples.push(((performance.now() - start) * 1000) / batch);
  }
  return median(samples);
}

const SECTION = 'Size guard: per accepted body, vs the JSON.parse the relay does anyway (median µs)';

function measure(label: string, json: string, forceWalk = true): Row[] {
  const parsed: unknown = JSON.parse(json);
  const parse = microseconds(() => JSON.parse(json));
  const deployed = microseconds(() => oversizedAttributes(json, parsed));
  const found = oversizedAttributes(json, parsed);
  const name = `${label}, ${(Buffer.byteLength(json) / 1024).toFixed(1)} KB`;
  const baseline = `JSON.parse ${parse.toFixed(2)}`;
  const share = (us: number) => `${((us / parse) * 100).toFixed(2)} %`;
  const rows: Row[] = [
    {
      section: SECTION,
      figure: `${name}: check as deployed`,
      relay: `${deployed.toFixed(3)} (paths: ${found.length === 0 ? 'none' : found.join(' ')})`,
      baseline,
      ratio: share(deployed),
    },
  ];
  if (forceWalk) {
    // A limit just under the body's length makes the check walk the whole value without reporting anything.
    const walked = microseconds(() => oversizedAttributes(json, parsed, json.length - 3));
    rows.push({
      section: SECTION,
      figure: `${name}: walk forced`,
      relay: walked.toFixed(2),
      baseline,
      ratio: share(walked),
    });
  }
  return rows;
}

function main(): void {
  const rows: Row[] = [
    ...measure('typical webhook', typicalBody()),
    ...measure('ticket export', largeBody(255 * 1024)),
    // Over the limit, the check as deployed walks: there is nothing more to force.
    ...measure('one 300,001-char value', largeBody(380 * 1024, ONEIO_ATTRIBUTE_LIMIT + 1), false),
  ];
  process.stdout.write(`${renderTable(rows)}\n`);
}

main();
