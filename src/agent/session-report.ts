/**
 * A Markdown record of a session for people: each question with its plan, the code of every step,
 * what came back, the answer and the table. (The full analysis report, with charts and a reproducible
 * appendix, is built on this later.)
 */
import type { AgentSessionRecord, AgentTurnRecord } from './session-store.js';

function cell(value: unknown): string {
  return value === null || value === undefined ? '' : String(value).replaceAll('|', '\\|').replace(/\s+/g, ' ');
}

function markdownTable(columns: readonly string[], rows: readonly (readonly unknown[])[], limit = 20): string[] {
  const lines = [`| ${columns.map(cell).join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`];
  for (const row of rows.slice(0, limit)) lines.push(`| ${row.map(cell).join(' | ')} |`);
  if (rows.length > limit) lines.push('', `(${limit} of ${rows.length} rows shown)`);
  return lines;
}

function turnSection(turn: AgentTurnRecord, number: number): string[] {
  const lines = [`## ${number}. ${turn.question}`, ''];
  if (turn.plan.length > 0) lines.push('**Plan**', '', ...turn.plan.map((step, index) => `${index + 1}. ${step}`), '');
  for (const step of turn.steps) {
    const input = step.input as { sql?: unknown; code?: unknown } | null;
    const code = typeof input?.sql === 'string' ? ['sql', input.sql] : typeof input?.code === 'string' ? ['python', input.code] : undefined;
    lines.push(`**Step ${step.index}: ${step.tool}** (${step.status})`, '');
    if (code !== undefined) lines.push('```' + String(code[0]), String(code[1]).trimEnd(), '```', '');
    lines.push(step.output, '');
    for (const file of step.files ?? []) if (file.endsWith('.png')) lines.push(`![${file}](../${file})`, '');
  }
  if (turn.table !== undefined && turn.table.columns.length > 0) lines.push(...markdownTable(turn.table.columns, turn.table.rows), '');
  lines.push(`**Answer** (${turn.status}): ${turn.answer === '' ? '—' : turn.answer}`, '');
  return lines;
}

/** The session as Markdown; image links are relative to the session's `reports/` folder. */
export function renderSessionReport(record: AgentSessionRecord, options: { title?: string; lastTurnOnly?: boolean } = {}): string {
  const turns = options.lastTurnOnly === true ? record.turns.slice(-1) : record.turns;
  const header = [
    `# ${options.title ?? turns[0]?.question ?? record.name}`,
    '',
    `Session \`${record.name}\`${record.data === undefined ? '' : ` on ${record.data}`}${record.model === undefined ? '' : `, model ${record.model}`}; ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    '',
  ];
  const offset = record.turns.length - turns.length;
  return [...header, ...turns.flatMap((turn, index) => turnSection(turn, offset + index + 1))].join('\n');
}
