/**
 * `iquery eval`: runs a question set through the offline analyst and scores it by execution accuracy
 * against each entry's reference SQL, run on the same source. An entry is answered-correct,
 * abstained, or wrong; an entry marked `expect: abstain` is correct when the analyst abstains and
 * wrong when it answers. Entries sharing a `session` run in file order as one conversation.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { IqueryError, messageOf } from '../../errors.js';
import type { DataSource } from '../../sources/source.js';
import type { AskResult, OfflineAnalyst } from '../analyst.js';
import type { PlanJson } from '../plan-json.js';
import { detectLanguage, type Language } from '../text.js';
import { sameResult } from './compare-results.js';

const entrySchema = z.strictObject({
  id: z.string().min(1),
  question: z.string().min(1),
  sql: z.string().min(1).optional(),
  ordered: z.boolean().optional(),
  expect: z.enum(['abstain', 'answered']).optional(),
  session: z.string().min(1).optional(),
  note: z.string().optional(),
});

const fileSchema = z.strictObject({
  today: z.union([z.string(), z.date()]).optional(),
  description: z.string().optional(),
  questions: z.array(entrySchema).min(1),
});

export type EvalEntry = z.infer<typeof entrySchema>;
export interface EvalFile {
  today?: string;
  questions: EvalEntry[];
}

export function parseEvalFile(text: string, fileName: string): EvalFile {
  let json: unknown;
  try {
    json = parseYaml(text);
  } catch (error) {
    throw new IqueryError('bad_input', `${fileName} is not valid YAML: ${messageOf(error)}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IqueryError('bad_input', `${fileName}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'malformed'}`, {
      hint: 'See eval/README.md for the format: today, then questions with id, question and sql (or expect: abstain).',
    });
  }
  const ids = new Set<string>();
  for (const entry of parsed.data.questions) {
    if (ids.has(entry.id)) throw new IqueryError('bad_input', `${fileName}: the id ${entry.id} is used twice.`);
    ids.add(entry.id);
    if (entry.sql === undefined && entry.expect === undefined) throw new IqueryError('bad_input', `${fileName}: ${entry.id} has neither sql nor expect.`);
  }
  const today = parsed.data.today instanceof Date ? parsed.data.today.toISOString().slice(0, 10) : parsed.data.today;
  return { ...(today === undefined ? {} : { today }), questions: parsed.data.questions };
}

export type Verdict = 'correct' | 'abstained' | 'wrong';

export interface EvalOutcome {
  id: string;
  question: string;
  language: Language;
  verdict: Verdict;
  /** What the analyst did. */
  status: AskResult['status'];
  /** Why it is wrong or abstained, in a few words. */
  detail?: string;
  sql: string | null;
  planningMs: number;
}

export interface EvalReport {
  questions: number;
  correct: number;
  abstained: number;
  wrong: number;
  /** correct / questions */
  accuracy: number;
  /** wrong / questions */
  wrongRate: number;
  byLanguage: Record<Language, { questions: number; correct: number; abstained: number; wrong: number }>;
  planning: { meanMs: number; maxMs: number };
  outcomes: EvalOutcome[];
}

function verdictOf(entry: EvalEntry, result: AskResult, reference: { columns: string[]; rows: unknown[][] } | undefined): { verdict: Verdict; detail?: string } {
  if (entry.expect === 'abstain') {
    return result.status === 'abstained' ? { verdict: 'correct' } : { verdict: 'wrong', detail: `answered a question it should not: ${result.answer.slice(0, 120)}` };
  }
  if (result.status === 'abstained') return { verdict: 'abstained', detail: result.answer.slice(0, 200) };
  if (result.status === 'error') return { verdict: 'wrong', detail: `error: ${result.error?.message ?? ''}` };
  if (reference === undefined) return { verdict: 'correct' };
  const same = sameResult({ columns: reference.columns, rows: reference.rows as never }, { columns: result.columns, rows: result.rows }, entry.ordered === true);
  if (same) return { verdict: 'correct' };
  const shape = `expected ${reference.columns.length} columns × ${reference.rows.length} rows, got ${result.columns.length} × ${result.rows.length}`;
  return { verdict: 'wrong', detail: `${shape}; expected ${JSON.stringify(reference.rows.slice(0, 3))}, got ${JSON.stringify(result.rows.slice(0, 3))}` };
}

export async function runEval(file: EvalFile, analyst: OfflineAnalyst, source: DataSource, onOutcome?: (outcome: EvalOutcome) => void): Promise<EvalReport> {
  const outcomes: EvalOutcome[] = [];
  const sessions = new Map<string, PlanJson | null>();
  for (const entry of file.questions) {
    const previous = entry.session === undefined ? null : (sessions.get(entry.session) ?? null);
    const result = await analyst.ask(entry.question, { previous, maxRows: 100_000 });
    if (entry.session !== undefined && result.status === 'answered') sessions.set(entry.session, result.plan);
    let reference: { columns: string[]; rows: unknown[][] } | undefined;
    if (entry.sql !== undefined && result.status === 'answered' && entry.expect !== 'abstain') {
      try {
        const gold = await source.query(entry.sql, { maxRows: 100_000 });
        reference = { columns: gold.columns.map((column) => column.name), rows: gold.rows };
      } catch (error) {
        throw new IqueryError('bad_input', `The reference SQL of ${entry.id} fails: ${messageOf(error)}`, { hint: 'Fix the question set: every reference must run on the data.' });
      }
    }
    const { verdict, detail } = verdictOf(entry, result, reference);
    const outcome: EvalOutcome = {
      id: entry.id,
      question: entry.question,
      language: detectLanguage(entry.question),
      verdict,
      status: result.status,
      sql: result.sql,
      planningMs: result.planningMs,
      ...(detail === undefined ? {} : { detail }),
    };
    outcomes.push(outcome);
    onOutcome?.(outcome);
  }
  const count = (list: EvalOutcome[], verdict: Verdict): number => list.filter((outcome) => outcome.verdict === verdict).length;
  const byLanguage = {} as EvalReport['byLanguage'];
  for (const language of ['zh', 'en'] as const) {
    const list = outcomes.filter((outcome) => outcome.language === language);
    byLanguage[language] = { questions: list.length, correct: count(list, 'correct'), abstained: count(list, 'abstained'), wrong: count(list, 'wrong') };
  }
  const planning = outcomes.map((outcome) => outcome.planningMs);
  return {
    questions: outcomes.length,
    correct: count(outcomes, 'correct'),
    abstained: count(outcomes, 'abstained'),
    wrong: count(outcomes, 'wrong'),
    accuracy: count(outcomes, 'correct') / outcomes.length,
    wrongRate: count(outcomes, 'wrong') / outcomes.length,
    byLanguage,
    planning: { meanMs: planning.reduce((sum, value) => sum + value, 0) / Math.max(1, planning.length), maxMs: Math.max(0, ...planning) },
    outcomes,
  };
}
