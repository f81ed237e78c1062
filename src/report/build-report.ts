/**
 * Builds a `Report` from what an analysis did: a turn of an agent session (its steps, code, charts
 * and the model's own narrative) or an answer of the offline analyst (its one query, the narrative
 * made from the result). Every SQL step is fingerprinted by running it again through the guard, so
 * the appendix records what the data says now; the tables read are counted (and hashed when small).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolOutputsOfTurn, type AgentSessionRecord, type AgentTurnRecord } from '../agent/session-store.js';
import type { AskResult } from '../analyst/analyst.js';
import { detectLanguage } from '../analyst/text.js';
import type { ChartToDraw } from '../charts/render-chart.js';
import type { Dictionary } from '../dictionary/dictionary.js';
import { messageOf } from '../errors.js';
import { parseStatements, tokenizeSql } from '../guard/parser.js';
import { fieldOf, taggedNodes } from '../guard/walk.js';
import { isAggregateQuery } from '../protection/aggregate-query.js';
import { systemPython } from '../sandbox/python-interpreter.js';
import type { DataSource, SqlValue, TableInfo } from '../sources/source.js';
import { checkNumbers } from './check-numbers.js';
import type { Report, ReportFinding, ReportInput, ReportStep, StepStage } from './report.js';
import { hashQuery, hashTable } from './result-hash.js';

export interface BuildContext {
  source: DataSource;
  dictionary: Dictionary;
  /** What to pass as `--data` to run it again; leave out when it would hold a password. */
  dataSpec?: string;
  /** Tables larger than this are counted but not hashed. Default 1 000 000 rows. */
  hashRowLimit?: number;
}

type Language = 'zh' | 'en';

const words = {
  methodGuard: { en: (dialect: string) => `Every query ran read-only through iquery's SQL guard on ${dialect}; the fingerprints in the appendix come from running each query again when the report was written.`, zh: (dialect: string) => `所有查询都经 iquery 的 SQL 守卫以只读方式在 ${dialect} 上运行；附录中的指纹是写报告时重新运行每个查询得到的。` },
  methodOffline: { en: 'Answered by the offline analyst: a semantic parser over the data dictionary compiled the question to SQL; no language model was used.', zh: '由离线分析器回答：基于数据字典的语义解析把问题编译成 SQL，未使用语言模型。' },
  methodAgent: { en: (model: string) => `Planned and written by the model ${model}; each statement was shown before it ran, and Python ran in a sandbox with no network.`, zh: (model: string) => `由模型 ${model} 规划和编写；每条语句运行前都经过展示，Python 在无网络的沙箱中运行。` },
  methodMetric: { en: (name: string, sql: string) => `${name} follows the dictionary's definition: ${sql}.`, zh: (name: string, sql: string) => `${name} 按数据字典的定义计算：${sql}。` },
  methodRates: { en: 'Rates and shares are fractions in the data and percentages in the text.', zh: '比率和占比在数据中是小数，在文中以百分比表示。' },
  truncated: { en: (step: number) => `Step ${step} returned more rows than its cap; only the first rows were read.`, zh: (step: number) => `第 ${step} 步返回的行数超过上限，只读取了前面的行。` },
  failed: { en: (step: number, status: string) => `Step ${step} did not complete (${status}); its result is not part of the findings.`, zh: (step: number, status: string) => `第 ${step} 步未完成（${status}），其结果不计入结论。` },
  estimated: { en: (table: string) => `The row count of ${table} is the engine's estimate.`, zh: (table: string) => `${table} 的行数是数据库的估计值。` },
  unsupported: { en: (count: number) => `${count} number(s) in the narrative were not found in any result; they are flagged.`, zh: (count: number) => `叙述中有 ${count} 个数字在任何结果中都找不到，已标出。` },
  masked: { en: 'Confidential columns were masked and restricted columns were not read.', zh: '机密字段已脱敏，受限字段未被读取。' },
  observational: { en: 'The figures describe the data as it is; they show association, not cause.', zh: '这些数字描述的是现有数据，体现的是相关关系而非因果关系。' },
  nextDimension: { en: (column: string) => `Break the result down by ${column} to see whether the pattern holds within each group.`, zh: (column: string) => `按 ${column} 进一步拆分，看规律在各组内是否成立。` },
  nextTime: { en: (column: string) => `Follow the measure over time (${column}) to see whether it is changing.`, zh: (column: string) => `按时间（${column}）跟踪该指标，看它是否在变化。` },
  nextRerun: { en: (folder: string) => `Run \`iquery rerun ${folder}\` when the data changes to see which numbers moved.`, zh: (folder: string) => `数据更新后运行 \`iquery rerun ${folder}\`，查看哪些数字发生了变化。` },
} as const;

/** Tables a query reads, by name, among the source's tables. */
function tablesRead(sql: string, dialect: DataSource['dialect'], known: readonly TableInfo[]): string[] {
  const parsed = parseStatements(sql, dialect);
  if (!parsed.ok) return [];
  const names = new Set<string>();
  for (const node of taggedNodes(parsed.statements)) {
    if (node.kind !== 'table') continue;
    const name = fieldOf(fieldOf(node.body, 'name'), 'name');
    const table = typeof name === 'string' ? known.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase()) : undefined;
    if (table !== undefined) names.add(table.name);
  }
  return [...names];
}

/** The WHERE conditions of a query's outermost level, as written (read from the guard's tokens). */
function whereConditions(sql: string, dialect: DataSource['dialect']): string[] {
  const lexed = tokenizeSql(sql, dialect);
  if (!lexed.ok) return [];
  const points = [...sql];
  const conditions: string[] = [];
  let depth = 0;
  let start: number | undefined;
  for (const token of lexed.tokens) {
    if (token.type === 'L_PAREN') depth++;
    else if (token.type === 'R_PAREN') depth--;
    if (depth !== 0) continue;
    if (token.type === 'WHERE') start = token.end;
    else if (start !== undefined && ['GROUP', 'ORDER', 'LIMIT', 'HAVING', 'QUALIFY', 'WINDOW', 'UNION', 'EXCEPT', 'INTERSECT', 'SEMICOLON'].includes(token.type)) {
      conditions.push(points.slice(start, token.start).join('').trim());
      start = undefined;
    }
  }
  if (start !== undefined) conditions.push(points.slice(start).join('').trim());
  return conditions.filter((condition) => condition !== '');
}

/** Python calls that change data rather than look at it, found on the code's syntax tree (parsed, never run). */
const cleaningCalls = ['dropna', 'fillna', 'drop_duplicates', 'astype', 'replace', 'to_datetime', 'to_numeric', 'clip', 'rename', 'drop', 'interpolate', 'strip', 'where', 'mask'];

/** Which of the Python codes clean data, in one interpreter for all of them; code that does not parse does not. */
function cleaningCodes(codes: readonly string[]): boolean[] {
  if (codes.length === 0) return [];
  const script = [
    'import ast, json, sys',
    'def calls(code):',
    '    try:',
    '        tree = ast.parse(code)',
    '    except SyntaxError:',
    '        return []',
    '    return sorted({node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)})',
    'print(json.dumps([calls(code) for code in json.load(sys.stdin)]))',
  ].join('\n');
  const parsed = spawnSync(existsSync(systemPython) ? systemPython : 'python3', ['-I', '-c', script], { input: JSON.stringify(codes), encoding: 'utf8', timeout: 10_000 });
  try {
    const calls = parsed.status === 0 ? (JSON.parse(parsed.stdout) as string[][]) : [];
    return codes.map((_code, index) => (calls[index] ?? []).some((name) => cleaningCalls.includes(name)));
  } catch {
    return codes.map(() => false);
  }
}

function chartOfAnswer(result: AskResult): ChartToDraw | undefined {
  if (result.chart === null || result.columns.length === 0) return undefined;
  return { ...result.chart, columns: result.columns, rows: result.rows };
}

function nextSteps(language: Language, dictionary: Dictionary, used: string, folder: string | undefined): string[] {
  const steps: string[] = [];
  const columns = dictionary.tables.flatMap((table) => table.columns.filter((column) => column.values.length > 1 && column.sensitivity !== 'restricted' && column.sensitivity !== 'confidential'));
  const unused = columns.find((column) => !used.toLowerCase().includes(column.name.toLowerCase()));
  if (unused !== undefined) steps.push(words.nextDimension[language](unused.description?.split('/')[0]?.trim() || unused.name));
  const time = dictionary.tables.flatMap((table) => table.columns).find((column) => column.type === 'date' || column.type === 'timestamp');
  if (time !== undefined && !used.toLowerCase().includes(time.name.toLowerCase())) steps.push(words.nextTime[language](time.name));
  steps.push(words.nextRerun[language](folder ?? 'DIR'));
  return steps;
}

/**
 * A column of fractions to show as percent: named after a metric whose format is percent, or named
 * as a rate or share (rate, ratio, share, 率, 占比…) with every value between -1 and 1.
 */
function isRateColumn(column: string, index: number, rows: readonly SqlValue[][], dictionary: Dictionary): boolean {
  const values = rows.map((row) => row[index]).filter((value) => value !== null && value !== undefined);
  if (values.length === 0 || !values.every((value) => typeof value === 'number')) return false;
  const metric = dictionary.metrics.find((candidate) => candidate.name.toLowerCase() === column.toLowerCase());
  if (metric !== undefined) return metric.format === 'percent';
  const named = /(^|_)(rate|ratio|share|proportion|fraction)(_|$)|率|占比|比例|比重/iu.test(column);
  return named && values.every((value) => Math.abs(value as number) <= 1);
}

interface StepDraft {
  tool: ReportStep['tool'];
  code: string;
  frame?: string;
  status: ReportStep['status'];
  summary: string;
  figures: string[];
}

async function fingerprintSteps(drafts: readonly StepDraft[], context: BuildContext, finalSql: string | null): Promise<{ steps: ReportStep[]; inputs: ReportInput[] }> {
  const tables = await context.source.listTables();
  const read = new Set<string>();
  const steps: ReportStep[] = [];
  const python = drafts.filter((draft) => draft.tool === 'run_python');
  const cleans = cleaningCodes(python.map((draft) => draft.code));
  const cleaning = new Set(python.filter((_draft, index) => cleans[index] === true));
  for (const [index, draft] of drafts.entries()) {
    const language = draft.tool === 'run_python' ? 'python' : 'sql';
    let stage: StepStage = 'exploration';
    if (language === 'python') stage = cleaning.has(draft) ? 'cleaning' : draft.figures.length > 0 || index === drafts.length - 1 ? 'analysis' : 'exploration';
    else if (draft.code === finalSql || draft.tool === 'offline' || (draft.tool === 'run_sql' && isAggregateQuery(draft.code, context.source.dialect) && index >= drafts.length - 2)) stage = 'analysis';
    const step: ReportStep = { index: index + 1, tool: draft.tool, language, code: draft.code, stage, status: draft.status, summary: draft.summary, figures: draft.figures };
    if (draft.frame !== undefined) step.frame = draft.frame;
    if (language === 'sql' && draft.status === 'ok') {
      for (const table of tablesRead(draft.code, context.source.dialect, tables)) read.add(table);
      try {
        step.result = await hashQuery(context.source, draft.code);
      } catch (error) {
        step.summary = `${step.summary} (could not be run again for its fingerprint: ${messageOf(error)})`;
      }
    }
    steps.push(step);
  }
  const inputs: ReportInput[] = [];
  for (const table of [...read].sort()) {
    const counted = await hashTable(context.source, table, { maxRows: context.hashRowLimit ?? 1_000_000 });
    inputs.push({ table, ...counted });
  }
  return { steps, inputs };
}

function metricsUsed(dictionary: Dictionary, text: string): Report['data']['metrics'] {
  const lowered = text.toLowerCase();
  const used = dictionary.metrics.filter((metric) => lowered.includes(metric.name.toLowerCase()) || lowered.includes(metric.sql.toLowerCase()) || [metric.label, ...metric.synonyms].some((name) => name !== '' && lowered.includes(name.toLowerCase())));
  return used.map((metric) => ({ name: metric.name, label: metric.label, sql: metric.sql, ...(metric.description === undefined ? {} : { description: metric.description }) }));
}

function limitationsOf(language: Language, steps: readonly ReportStep[], inputs: readonly ReportInput[], unsupported: number, dictionary: Dictionary): string[] {
  const notes: string[] = [];
  for (const step of steps) {
    if (step.result?.truncated === true) notes.push(words.truncated[language](step.index));
    if (step.status !== 'ok') notes.push(words.failed[language](step.index, step.status));
  }
  for (const input of inputs) if (!input.exact) notes.push(words.estimated[language](input.table));
  if (dictionary.tables.some((table) => table.columns.some((column) => column.sensitivity === 'confidential' || column.sensitivity === 'restricted'))) notes.push(words.masked[language]);
  if (unsupported > 0) notes.push(words.unsupported[language](unsupported));
  notes.push(words.observational[language]);
  return notes;
}

function methodNotes(language: Language, context: BuildContext, analyst: Report['analyst'], model: string | undefined, metrics: Report['data']['metrics'], rates: boolean): string[] {
  const notes = [words.methodGuard[language](context.source.dialect)];
  notes.push(analyst === 'offline' ? words.methodOffline[language] : words.methodAgent[language](model ?? 'model'));
  for (const metric of metrics) notes.push(words.methodMetric[language](metric.label || metric.name, metric.sql));
  if (rates) notes.push(words.methodRates[language]);
  return notes;
}

/** The results a narrative may cite: what queries returned (not the rows a DataFrame was loaded from, which the model never read). */
function resultsOf(steps: readonly ReportStep[], extra: readonly { columns: string[]; rows: SqlValue[][] }[]): { columns: string[]; rows: SqlValue[][] }[] {
  return [...steps.flatMap((step) => (step.result === undefined || step.tool === 'load_data' ? [] : [{ columns: step.result.columns, rows: step.result.rows }])), ...extra];
}

/** A report of one answer of the offline analyst. */
export async function buildOfflineReport(result: AskResult, context: BuildContext & { folder?: string }): Promise<Report> {
  const language: Language = result.language === 'zh' ? 'zh' : detectLanguage(result.question);
  const drafts: StepDraft[] = result.sql === null ? [] : [{ tool: 'offline', code: result.sql, status: result.status === 'answered' ? 'ok' : 'error', summary: `${result.rows.length}${result.truncated ? '+' : ''} rows × ${result.columns.length} columns`, figures: [] }];
  const { steps, inputs } = await fingerprintSteps(drafts, context, result.sql);
  const chart = chartOfAnswer(result);
  const findings: ReportFinding[] = [{ text: result.answer, ...(chart === undefined ? {} : { chart }), ...(steps.length > 0 ? { step: 1 } : {}), ...(result.formats === undefined ? {} : { formats: result.formats }) }];
  const numbers = checkNumbers(result.answer, resultsOf(steps, [{ columns: result.columns, rows: result.rows }]), { given: [result.question, result.sql ?? ''] });
  const metrics = metricsUsed(context.dictionary, `${result.sql ?? ''} ${result.question}`);
  const filters = filtersOf(result);
  return {
    version: 1,
    title: result.question,
    language,
    question: result.question,
    createdAt: new Date().toISOString(),
    analyst: 'offline',
    data: dataSection(context, inputs, filters, metrics),
    plan: [],
    steps,
    findings,
    answer: result.answer,
    methodNotes: methodNotes(language, context, 'offline', undefined, metrics, (result.formats ?? []).includes('percent')),
    limitations: limitationsOf(language, steps, inputs, numbers.unsupported.length, context.dictionary),
    nextSteps: nextSteps(language, context.dictionary, `${result.sql ?? ''}`, context.folder),
    numbers: { checked: numbers.checked, unsupported: numbers.unsupported },
  };
}

/** The offline plan's filters, written as conditions (`user_payments.MonthlyCharges > 80`). */
function filtersOf(result: AskResult): string[] {
  const plan = result.plan as { filters?: Record<string, unknown>[] } | null;
  const filters = (plan?.filters ?? []).map((filter) => {
    const column = `${String(filter['table'] ?? '')}.${String(filter['column'] ?? '')}`;
    const op = String(filter['op'] ?? '');
    if (op === 'in' || op === 'not in') return `${column} ${op} (${((filter['values'] as unknown[]) ?? []).map(String).join(', ')})`;
    if (op === 'between') return `${column} between ${String(filter['low'])} and ${String(filter['high'])}`;
    if (op === 'time') return `${column}: ${String(filter['label'] ?? `${String(filter['from'])} – ${String(filter['to'])}`)}`;
    if (op === 'is null' || op === 'is not null' || op === 'exists' || op === 'not exists') return `${column} ${op}`;
    return `${column} ${op} ${String(filter['value'])}`;
  });
  return filters;
}

function dataSection(context: BuildContext, inputs: ReportInput[], filters: string[], metrics: Report['data']['metrics']): Report['data'] {
  return {
    source: context.source.label,
    ...(context.dataSpec === undefined ? {} : { spec: context.dataSpec }),
    dialect: context.source.dialect,
    inputs,
    filters,
    metrics,
    dictionaryVersion: context.dictionary.version,
    ...(context.dictionary.file === undefined ? {} : { dictionaryFile: context.dictionary.file }),
  };
}

function agentFilters(steps: readonly ReportStep[], context: BuildContext): string[] {
  const conditions = new Set(steps.filter((step) => step.language === 'sql' && step.status === 'ok').flatMap((step) => whereConditions(step.code, context.source.dialect)));
  return [...conditions];
}

/** A chart the agent showed, read back from the session folder. */
function chartFile(folder: string, file: string): ChartToDraw | undefined {
  try {
    const chart = JSON.parse(readFileSync(join(folder, file), 'utf8')) as { type: ChartToDraw['type']; title: string; x?: string; y?: string[]; series?: string; data: { columns: string[]; rows: unknown[][] } };
    return { type: chart.type, title: chart.title, ...(chart.x === undefined ? {} : { x: chart.x }), ...(chart.y === undefined ? {} : { y: chart.y }), ...(chart.series === undefined ? {} : { series: chart.series }), columns: chart.data.columns, rows: chart.data.rows };
  } catch {
    return undefined;
  }
}

/**
 * A report of an agent turn (the last by default). `narrative` is the model's own account (the
 * write_report tool's summary); without it the turn's answer is the narrative. Figures are paths
 * relative to the session folder.
 */
export async function buildAgentReport(record: AgentSessionRecord, context: BuildContext & { sessionFolder: string; folder?: string; turn?: AgentTurnRecord; narrative?: string; title?: string }): Promise<Report> {
  const turn = context.turn ?? record.turns.at(-1);
  if (turn === undefined) throw new Error('The session has no question to report on yet.');
  const language: Language = detectLanguage(turn.question) === 'zh' ? 'zh' : 'en';
  const drafts: StepDraft[] = [];
  const charts: ChartToDraw[] = [];
  for (const step of turn.steps) {
    const input = step.input as { sql?: unknown; code?: unknown; name?: unknown } | null;
    const files = step.files ?? [];
    for (const file of files) {
      if (!file.endsWith('.json')) continue;
      const chart = chartFile(context.sessionFolder, file);
      if (chart !== undefined) charts.push(chart);
    }
    if (step.tool !== 'run_sql' && step.tool !== 'load_data' && step.tool !== 'run_python') continue;
    const code = step.tool === 'run_python' ? input?.code : input?.sql;
    if (typeof code !== 'string' || step.status === 'pending') continue;
    const status: ReportStep['status'] = step.status === 'ok' ? 'ok' : step.status === 'skipped' ? 'skipped' : step.status === 'refused' ? 'refused' : 'error';
    drafts.push({ tool: step.tool, code, ...(step.tool === 'load_data' && typeof input?.name === 'string' ? { frame: input.name } : {}), status, summary: step.output, figures: files.filter((file) => file.endsWith('.png')) });
  }
  const { steps, inputs } = await fingerprintSteps(drafts, context, turn.sql ?? null);
  const narrative = (context.narrative ?? turn.answer).trim();
  const paragraphs = narrative.split(/\n\s*\n/).map((text) => text.trim()).filter((text) => text !== '');
  const findings: ReportFinding[] = paragraphs.map((text, index) => ({ text, ...(charts[index] === undefined ? {} : { chart: charts[index] }) }));
  // The first finding shows the table the analysis ended on, its rates as percent.
  const shown = steps.filter((step) => step.stage === 'analysis' && step.tool === 'run_sql' && step.result !== undefined && step.result.columns.length > 0).at(-1);
  if (shown?.result !== undefined && findings[0] !== undefined) {
    findings[0].step = shown.index;
    findings[0].formats = shown.result.columns.map((column, index) => (isRateColumn(column, index, shown.result?.rows ?? [], context.dictionary) ? 'percent' : 'number'));
  }
  for (const chart of charts.slice(paragraphs.length)) findings.push({ text: '', chart });
  const table = turn.table === undefined ? [] : [{ columns: turn.table.columns, rows: turn.table.rows as SqlValue[][] }];
  // The model read its numbers from what the tools returned; those and the results fingerprinted now both count.
  const turnIndex = record.turns.indexOf(turn);
  const outputs = toolOutputsOfTurn(record, turnIndex < 0 ? record.turns.length - 1 : turnIndex);
  const numbers = checkNumbers(narrative, resultsOf(steps, table), { outputs, given: [turn.question, ...steps.map((step) => step.code)] });
  const allCode = steps.map((step) => step.code).join('\n');
  const metrics = metricsUsed(context.dictionary, `${allCode} ${turn.question}`);
  return {
    version: 1,
    title: context.title ?? turn.question,
    language,
    question: turn.question,
    createdAt: new Date().toISOString(),
    analyst: 'agent',
    ...(record.model === undefined ? {} : { model: record.model }),
    session: record.name,
    data: dataSection(context, inputs, agentFilters(steps, context), metrics),
    plan: turn.plan,
    steps,
    findings,
    answer: turn.answer,
    methodNotes: methodNotes(language, context, 'agent', record.model, metrics, /%/.test(narrative)),
    limitations: limitationsOf(language, steps, inputs, numbers.unsupported.length, context.dictionary),
    nextSteps: nextSteps(language, context.dictionary, allCode, context.folder),
    numbers: { checked: numbers.checked, unsupported: numbers.unsupported },
  };
}
