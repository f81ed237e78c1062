/**
 * What the model is told: who it is, the rules it works under, the data it can reach, the governed
 * metrics and the notes the user saved. Only the schema goes in here, never data values.
 */
import type { Dictionary } from '../dictionary/dictionary.js';
import type { MemoryNote } from '../memory/memory-store.js';
import type { SqlDialect, TableInfo } from '../sources/source.js';

export interface SystemPromptInput {
  dialect: SqlDialect;
  dictionary: Dictionary;
  tables: readonly TableInfo[];
  notes: readonly MemoryNote[];
  sendValues: boolean;
  today: string;
}

const dialectNames: Record<SqlDialect, string> = { duckdb: 'DuckDB', mysql: 'MySQL / MariaDB', postgres: 'PostgreSQL' };

export function systemPrompt(input: SystemPromptInput): string {
  const lines = [
    'You are iquery, a careful data analyst. You answer questions about the user\'s data by running SQL and Python with the tools you are given, then answer in the language of the question (Chinese or English).',
    '',
    'How you work:',
    '- For a question that needs more than one query, first write a short numbered plan ("1. …", "2. …"), then carry it out step by step.',
    `- SQL runs on ${dialectNames[input.dialect]} through a read-only guard: write one SELECT (or WITH … SELECT) per call, in that dialect. Aggregate in SQL; load_data only what Python needs.`,
    '- Python runs in a sandbox with pandas, numpy, scipy, scikit-learn, statsmodels, matplotlib and seaborn; it has no network and no files but its workspace. Variables persist between run_python calls.',
    '- When a metric below matches the question, use its SQL definition exactly; do not invent another.',
    '- Read each result. If a tool reports an error, fix the cause and try again; do not repeat a failing call unchanged.',
    '- Every number in your answer must come from a result you saw. Give units, and rates as percentages. If the data cannot answer the question, say so plainly.',
    '- Columns marked RESTRICTED may only be counted or tested for NULL; CONFIDENTIAL values reach you masked (‹masked:…›): never try to recover them.',
    '- Use remember only for a definition, preference or correction the user states that should outlive this conversation; the user confirms it.',
    input.sendValues ? '' : '- Privacy mode: you see the schema and only the aggregate results the user approves, never raw rows. Ask for aggregates (GROUP BY, COUNT, AVG…) and plan around withheld results.',
    '- Finish with a short answer that states the key numbers, without restating all the steps.',
    '',
    `Today is ${input.today}.`,
    '',
    'Tables:',
  ];
  for (const table of input.tables) {
    const entry = input.dictionary.tables.find((candidate) => candidate.name.toLowerCase() === table.name.toLowerCase());
    const columns = table.columns.map((column) => {
      const meaning = entry?.columns.find((candidate) => candidate.name.toLowerCase() === column.name.toLowerCase());
      const mark = meaning?.sensitivity === 'restricted' ? ' RESTRICTED' : meaning?.sensitivity === 'confidential' ? ' CONFIDENTIAL' : '';
      return `${column.name} ${column.family}${mark}`;
    });
    lines.push(`- ${table.name} (${table.rowCount} rows)${entry?.description === undefined ? '' : `: ${entry.description}`}`);
    lines.push(`  columns: ${columns.join(', ')}`);
  }
  if (input.dictionary.relationships.length > 0) {
    lines.push('', 'Joins:');
    for (const relationship of input.dictionary.relationships) lines.push(`- ${relationship.from.table}.${relationship.from.column} = ${relationship.to.table}.${relationship.to.column}`);
  }
  if (input.dictionary.metrics.length > 0) {
    lines.push('', 'Governed metrics:');
    for (const metric of input.dictionary.metrics) {
      const names = [metric.label, ...metric.synonyms].filter((name) => name !== metric.name).join(', ');
      lines.push(`- ${metric.name}${names === '' ? '' : ` (${names})`} = ${metric.sql}${metric.format === 'percent' ? ' [a ratio; show as %]' : ''}`);
    }
  }
  if (input.notes.length > 0) {
    lines.push('', 'Notes the user saved (apply them):');
    for (const note of input.notes) lines.push(`- [${note.kind}] ${note.note}`);
  }
  lines.push('', 'describe_table gives each column\'s meaning, values and synonyms; search_dictionary finds which column or metric a word means.');
  return lines.filter((line, index, all) => !(line === '' && all[index - 1] === '')).join('\n');
}

/** Asked first in expert mode, with tools off: a plan the user reviews before anything runs. */
export const planRequest = 'Before running anything, reply only with a short numbered plan (1. … 2. …) for answering this question with the tools. Do not call tools yet.';

/**
 * The numbered steps at the start of a reply ("1. …", "2) …", "1、…"), or [] when there is no plan.
 * Reads the model's prose, not code.
 */
export function readPlan(text: string): string[] {
  const steps: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:[-*]\s*)?(?:step\s*)?(\d{1,2})\s*[.)、:：]\s*(.+)$/i.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined && Number(match[1]) === steps.length + 1) steps.push(match[2].trim());
  }
  return steps.length >= 2 ? steps : [];
}
