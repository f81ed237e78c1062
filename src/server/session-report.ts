/**
 * A Markdown report of one turn of a session: the question, the answer, the plan, the SQL, the table
 * (first rows), the steps with their code, and the turn's files. A first version; a later issue
 * makes it complete (charts drawn in, several turns).
 */
import type { TurnView } from './server.js';

const reportRows = 50;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  return text.replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
}

function codeOf(input: unknown): { language: string; code: string } | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const record = input as Record<string, unknown>;
  if (typeof record['sql'] === 'string') return { language: 'sql', code: record['sql'] };
  if (typeof record['code'] === 'string') return { language: 'python', code: record['code'] };
  return undefined;
}

export function renderTurnReport(turn: TurnView, context: { session: string; data: string; dictionaryVersion: string; at: Date }): string {
  const lines = [
    `# ${turn.question}`,
    '',
    `- Session: ${context.session}`,
    `- Data: ${context.data} (dictionary version ${context.dictionaryVersion})`,
    `- Answered by: the ${turn.analyst === 'agent' ? 'agent' : 'offline analyst'}; status ${turn.status}`,
    `- Written: ${context.at.toISOString()}`,
    '',
    '## Answer',
    '',
    turn.answer === '' ? '(no answer)' : turn.answer,
    '',
  ];
  if (turn.sql !== null) lines.push('## SQL', '', '```sql', turn.sql, '```', '');
  if (turn.table !== undefined && turn.table.columns.length > 0) {
    const { columns, rows } = turn.table;
    lines.push('## Result', '', `| ${columns.map(cell).join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`);
    for (const row of rows.slice(0, reportRows)) lines.push(`| ${row.map(cell).join(' | ')} |`);
    lines.push('');
    if (rows.length > reportRows || turn.table.truncated) lines.push(`(first ${Math.min(rows.length, reportRows)} rows)`, '');
  }
  if (turn.steps.length > 0) {
    lines.push('## Steps', '');
    for (const step of turn.steps) {
      lines.push(`### ${step.index}. ${step.tool} (${step.status})`, '');
      const code = codeOf(step.input);
      if (code !== undefined) lines.push('```' + code.language, code.code, '```', '');
      lines.push(step.output, '');
    }
  }
  if (turn.files.length > 0) lines.push('## Files', '', ...turn.files.map((file) => `- ${file}`), '');
  return lines.join('\n');
}
