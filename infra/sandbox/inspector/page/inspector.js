// The sandbox inspector: reads the JSON endpoints under /inspector/api/ and redraws on every change the server
// announces. Everything shown is built with textContent, so nothing a sender posts can become markup.
'use strict';

const api = (path) => `/inspector/api/${path}`;
const state = { entries: [], selected: undefined, token: undefined, tokenReadAt: 0 };

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'className') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function getJson(path) {
  const response = await fetch(api(path), { cache: 'no-store' });
  return response.json();
}

async function postJson(path, payload) {
  const response = await fetch(api(path), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  return { ok: response.ok, status: response.status, json: await response.json() };
}

function clock(epochMs) {
  return new Date(epochMs).toLocaleTimeString([], { hour12: false });
}

function shortId(id) {
  return id ? `${id.slice(0, 8)}…` : '';
}

function duration(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes} min ${seconds % 60} s` : `${seconds} s`;
}

function outcomeClass(outcome) {
  return (outcome ?? '').replace(/-of-.*$/, '');
}

/** What a list row says about where the message ended up, queued ones followed through the outbox. */
function outcomeText(entry) {
  const outcome = entry.outcome ?? (entry.answer ? 'answered' : 'in progress');
  if (entry.outbox?.state === 'delivered') return `${outcome} → delivered`;
  if (entry.outbox?.state === 'removed') return `${outcome} → purged`;
  if (entry.outbox?.state === 'parked' && outcome !== 'parked') return `${outcome} → parked`;
  return outcome;
}

// ── the live list ──────────────────────────────────────────────────────────────────────────────────────────

function renderActivity() {
  const body = document.querySelector('#activity tbody');
  body.replaceChildren(
    ...state.entries.map((entry) => {
      const latest = entry.outbox?.state === 'delivered' ? 'delivered' : outcomeClass(entry.outcome);
      const notes = [
        entry.detail && entry.outcome !== 'delivered' ? entry.detail : undefined,
        entry.tokenRefreshed ? 'token refreshed' : undefined,
        entry.coldStart ? `cold start #${entry.environment}` : undefined,
        ...entry.notes,
      ].filter(Boolean);
      return el(
        'tr',
        {
          'data-id': entry.id,
          'data-outcome': latest,
          'data-environment': entry.environment ?? '',
          className: entry.id === state.selected ? 'selected' : '',
          onclick: () => select(entry.id),
        },
        el('td', {}, clock(entry.at)),
        el('td', {}, entry.kind === 'event' ? `${entry.source} · ${entry.detailType ?? ''}` : entry.source),
        el('td', { className: 'mono' }, entry.answer ? String(entry.answer.status) : '…'),
        el('td', { className: `outcome ${latest}` }, outcomeText(entry)),
        el('td', { className: 'mono', title: entry.relayId ?? '' }, shortId(entry.relayId)),
        el('td', {}, entry.latencyMs === undefined ? '' : `${entry.latencyMs} ms`),
        el('td', {}, notes.join('; ')),
      );
    }),
  );
  document.querySelector('#activity-empty').hidden = state.entries.length > 0;
  renderDetail();
}

function select(id) {
  state.selected = id;
  renderActivity();
}

// ── one request: what the sender sent next to what ONEiO received ────────────────────────────────────────

function headersTable(headers) {
  return el(
    'table',
    { className: 'headers' },
    el(
      'tbody',
      {},
      ...headers.map(([name, value]) =>
        el('tr', {}, el('td', {}, name), el('td', { className: 'mono' }, value)),
      ),
    ),
  );
}

function renderDetail() {
  const panel = document.querySelector('#detail');
  const entry = state.entries.find((candidate) => candidate.id === state.selected);
  panel.hidden = entry === undefined;
  if (entry === undefined) return;
  document.querySelector('#detail-title').textContent =
    `${entry.method} ${entry.path} · ${outcomeText(entry)}${entry.relayId ? ` · relay ${entry.relayId}` : ''}`;

  document
    .querySelector('#sender')
    .replaceChildren(
      el('p', { className: 'mono' }, `${entry.method} ${entry.path} (${entry.request.bytes} bytes)`),
      headersTable(entry.request.headers),
      el('pre', { 'data-testid': 'sender-body' }, entry.request.body),
      entry.answer ? el('h3', {}, `Answer ${entry.answer.status}`) : null,
      entry.answer ? el('pre', {}, entry.answer.body) : null,
    );

  const received = document.querySelector('#received');
  if (entry.oneio.length === 0) {
    const why =
      entry.outcome === 'refused'
        ? `Nothing: the relay refused the request (${entry.detail ?? 'see the answer'}).`
        : entry.outcome?.startsWith('duplicate')
          ? 'Nothing: a duplicate of an earlier message is not sent again.'
          : 'Nothing (yet), or ONEiO is not emulated here.';
    received.replaceChildren(el('p', { className: 'empty' }, why));
    return;
  }
  // The latest attempt in full; earlier ones (retries) folded.
  received.replaceChildren(
    ...entry.oneio.map((attempt, index) => {
      const summary = [
        `#${index + 1} ${clock(attempt.at)} · ${attempt.by === 'sweep' ? 'outbox sweep' : 'in the call'} · answered `,
        el('strong', {}, attempt.status === null ? 'connection reset' : String(attempt.status)),
        ' ',
        el(
          'span',
          { className: `badge ${attempt.byteIdentical ? 'same' : 'differs'}` },
          attempt.byteIdentical ? 'byte-identical' : 'differs from what the sender sent',
        ),
      ];
      const body = [
        el('p', { className: 'mono' }, `POST ${attempt.url} (${attempt.bytes} bytes)`),
        headersTable(attempt.headers),
        el('pre', {}, attempt.body),
      ];
      return index === entry.oneio.length - 1
        ? el(
            'div',
            { className: 'attempt', 'data-testid': 'oneio-attempt' },
            el('p', {}, ...summary),
            ...body,
          )
        : el(
            'details',
            { className: 'attempt', 'data-testid': 'oneio-attempt' },
            el('summary', {}, ...summary),
            ...body,
          );
    }),
  );
}

// ── token ──────────────────────────────────────────────────────────────────────────────────────────────────

function renderToken() {
  const token = state.token;
  const list = document.querySelector('#token');
  if (token === undefined) return;
  const stored = token.stored ?? {};
  const expiresAt = stored.expiresAt ? Date.parse(stored.expiresAt) : undefined;
  const now = Date.now();
  const rows = [
    ['version', stored.version ?? '—'],
    [
      'expires',
      expiresAt === undefined
        ? 'no token yet'
        : expiresAt > now
          ? `in ${duration(expiresAt - now)} (${clock(expiresAt)})`
          : `expired ${duration(now - expiresAt)} ago`,
    ],
    ['last refresh', stored.refreshedAt ? clock(Date.parse(stored.refreshedAt)) : '—'],
    ['fetched by', token.lastRefreshBy === null ? '—' : `execution environment #${token.lastRefreshBy}`],
    ['refreshes', String(token.refreshes)],
    ['token requests', token.tokenRequests === null ? 'n/a (real ONEiO)' : String(token.tokenRequests)],
    ['refresh lease', stored.refreshInProgress ? 'held: a refresh is in progress' : 'free'],
  ];
  list.replaceChildren(
    ...rows.flatMap(([name, value]) => [el('dt', {}, name), el('dd', { 'data-field': name }, value)]),
  );
}

// ── outbox ─────────────────────────────────────────────────────────────────────────────────────────────────

function renderOutbox(outbox) {
  // `oneio-relay pause --sandbox` / `resume --sandbox` change the first; failures of ONEiO the second.
  document.querySelector('#destination').replaceChildren(
    ...[
      ['paused', outbox.paused],
      ['breaker', outbox.breaker],
    ].flatMap(([name, value]) => [el('dt', {}, name), el('dd', { 'data-field': name }, value ?? '—')]),
  );
  const items = [...(outbox.due ?? []), ...(outbox.parked ?? [])];
  document.querySelector('#outbox tbody').replaceChildren(
    ...items.map((item) =>
      el(
        'tr',
        { 'data-relay-id': item.relayId, 'data-state': item.state },
        el('td', { className: 'mono', title: item.relayId }, shortId(item.relayId)),
        el('td', {}, item.state),
        el('td', {}, String(item.attempts)),
        el('td', {}, clock(item.dueAt)),
        el('td', {}, item.lastError),
        el(
          'td',
          {},
          item.state === 'parked'
            ? el(
                'button',
                { type: 'button', className: 'quiet', onclick: () => outboxAction('redrive', item.relayId) },
                'Redrive',
              )
            : null,
          ' ',
          el(
            'button',
            {
              type: 'button',
              className: 'quiet',
              onclick: () => {
                if (window.confirm(`Purge ${item.relayId}? The message is deleted for good.`)) {
                  outboxAction('purge', item.relayId);
                }
              },
            },
            'Purge',
          ),
        ),
      ),
    ),
  );
  document.querySelector('#outbox-empty').hidden = items.length > 0;
}

async function outboxAction(action, relayId) {
  const answer = await postJson(`outbox/${action}`, { relayId });
  document.querySelector('#outbox-message').textContent = answer.json.message ?? answer.json.error ?? '';
  await refreshOutbox();
}

// ── refreshing ─────────────────────────────────────────────────────────────────────────────────────────────

async function refreshActivity() {
  const { entries } = await getJson('activity');
  state.entries = entries;
  renderActivity();
}

async function refreshToken() {
  state.token = await getJson('token');
  renderToken();
}

async function refreshOutbox() {
  renderOutbox(await getJson('outbox'));
}

function refreshAll() {
  return Promise.all([refreshActivity(), refreshToken(), refreshOutbox()]).catch(() => {
    document.querySelector('#live').textContent = 'sandbox not answering';
  });
}

function listen() {
  const live = document.querySelector('#live');
  const events = new EventSource(api('stream'));
  events.addEventListener('change', () => {
    live.textContent = 'live';
    live.classList.add('on');
    refreshAll();
  });
  events.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
    live.classList.remove('on');
  });
}

// ── forms and the ONEiO switch ─────────────────────────────────────────────────────────────────────────────

function renderSwitch(oneio) {
  document.querySelector('#oneio-label').textContent = `${oneio.label} answers`;
  const labels = { normal: 'normal', slow: `slow (${oneio.slowMs / 1000} s)` };
  document.querySelector('#oneio-switch').replaceChildren(
    ...oneio.modes.map((mode) =>
      el(
        'button',
        {
          type: 'button',
          'data-mode': mode,
          'aria-pressed': String(mode === oneio.mode),
          disabled: !oneio.emulated,
          onclick: async () => {
            const answer = await postJson('oneio', { mode });
            if (answer.ok) renderSwitch({ ...oneio, mode: answer.json.mode });
          },
        },
        labels[mode] ?? mode,
      ),
    ),
  );
}

function setUpForms(config) {
  const select = document.querySelector('#sample-source');
  const body = document.querySelector('#sample-body');
  select.replaceChildren(
    ...config.sources.map((source) =>
      el('option', { value: source.name }, `${source.name} (${source.scheme})`),
    ),
  );
  const sampleOf = (name) => config.sources.find((source) => source.name === name)?.sampleBody ?? '{}';
  body.value = sampleOf(select.value);
  select.addEventListener('change', () => {
    body.value = sampleOf(select.value);
  });
  document.querySelector('#sample-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const output = document.querySelector('#sample-answer');
    output.textContent = 'sending…';
    const answer = await postJson('send', { source: select.value, body: body.value });
    output.textContent = answer.ok ? `${answer.json.status} ${answer.json.body}` : answer.json.error;
  });

  document.querySelector('#event-source').value = config.event.source;
  document.querySelector('#event-detail-type').value = config.event.detailType;
  document.querySelector('#event-detail').value = JSON.stringify(config.event.detail);
  document.querySelector('#event-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const output = document.querySelector('#event-answer');
    let detail;
    try {
      detail = JSON.parse(document.querySelector('#event-detail').value);
    } catch {
      output.textContent = 'Detail must be JSON';
      return;
    }
    output.textContent = 'sending…';
    const answer = await postJson('event', {
      source: document.querySelector('#event-source').value,
      detailType: document.querySelector('#event-detail-type').value,
      detail,
    });
    output.textContent = answer.ok ? `${answer.json.status} ${answer.json.body}` : answer.json.error;
  });

  document.querySelector('#sweep-now').addEventListener('click', async () => {
    const answer = await postJson('sweep', {});
    const sweep = answer.json.lastSweep;
    document.querySelector('#outbox-message').textContent = sweep
      ? `Swept: ${sweep.delivered} delivered, ${sweep.rescheduled} retried later, ${sweep.parked} parked.`
      : 'Swept.';
    await refreshOutbox();
  });
}

async function start() {
  const config = await getJson('config');
  renderSwitch(config.oneio);
  setUpForms(config);
  await refreshAll();
  listen();
  // The countdown moves every second; the stored token and the outbox are read again now and then.
  setInterval(renderToken, 1000);
  setInterval(() => Promise.all([refreshToken(), refreshOutbox()]).catch(() => {}), 5000);
}

start();
