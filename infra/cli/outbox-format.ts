import type { OutboxItem } from '../../functions/relay/ports/outbox';

const LAST_ERROR_CHARS = 60;

/** `2025-03-12 19:04:17Z`: sortable, unambiguous, one column wide. */
export function timestamp(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** One line per item, aligned columns, oldest first as the outbox returns them. */
export function itemTable(items: readonly OutboxItem[], state: 'due' | 'parked'): string {
  const rows = [
    [
      'RELAY ID',
      'SOURCE',
      'ATTEMPTS',
      'FIRST SEEN',
      state === 'due' ? 'NEXT TRY' : 'PARKED AT',
      'LAST ERROR',
    ],
    ...items.map((item) => [
      item.relayId,
      item.source,
      String(item.attempts),
      timestamp(item.firstSeenAt),
      timestamp(item.dueAt),
      item.lastError.length > LAST_ERROR_CHARS
        ? `${item.lastError.slice(0, LAST_ERROR_CHARS)}…`
        : item.lastError,
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  '),
    )
    .join('\n');
}

/** Every field of one item, then its body exactly as ONEiO would receive it. */
export function itemDetails(item: OutboxItem): string {
  const when =
    item.state === 'due'
      ? `due, next try at ${timestamp(item.dueAt)}`
      : `parked since ${timestamp(item.dueAt)}`;
  return [
    `relay id     ${item.relayId}`,
    `source       ${item.source}`,
    `delivery id  ${item.deliveryId}`,
    `state        ${when}`,
    `attempts     ${item.attempts} (${item.retries} scheduled retries)`,
    `first seen   ${timestamp(item.firstSeenAt)}`,
    `last error   ${item.lastError || '-'}`,
    `body         ${Buffer.byteLength(item.body)} bytes:`,
    item.body,
  ].join('\n');
}
