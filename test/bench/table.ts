/** One line of the bench table: the relay's figure, what it is compared with, and the goal if there is one. */
export interface Row {
  readonly section: string;
  readonly figure: string;
  readonly relay: string;
  readonly baseline?: string;
  readonly ratio?: string;
  readonly goal?: string;
  /** Whether the figure meets its goal; absent when there is no goal. */
  readonly met?: boolean;
}

const COLUMNS = ['figure', 'relay', 'baseline', 'ratio', 'goal', 'met'] as const;
const HEADINGS: Record<(typeof COLUMNS)[number], string> = {
  figure: 'Figure',
  relay: 'Relay',
  baseline: 'Baseline',
  ratio: 'Ratio',
  goal: 'Goal',
  met: 'Met',
};

function cell(row: Row, column: (typeof COLUMNS)[number]): string {
  if (column === 'met') return row.met === undefined ? '' : row.met ? 'yes' : 'NO';
  return row[column] ?? '';
}

/** Renders rows as one plain-text table, a heading line per section. */
export function renderTable(rows: readonly Row[]): string {
  const widths = COLUMNS.map((column) =>
    Math.max(
      HEADINGS[column].length,
      ...rows.map((row) => cell(row, column).length),
      ...(column === 'figure' ? rows.map((row) => row.section.length + 2) : []),
    ),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const out = [line(COLUMNS.map((c) => HEADINGS[c])), rule];
  let section: string | undefined;
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      out.push(line([`[${section}]`, ...COLUMNS.slice(1).map(() => '')]));
    }
    out.push(line(COLUMNS.map((c) => cell(row, c))));
  }
  return out.join('\n');
}
