/**
 * The data analysis report: what was asked, the data used, the steps (cleaning, exploration,
 * analysis) with their exact code, the findings with numbers and charts, method notes, limitations,
 * next steps, and an appendix that makes it reproducible (row counts and content hashes of every
 * input and result, the dictionary's version). One `Report` object is built from a session, written
 * beside the rendered files as `report.json`, and read back by `iquery rerun`.
 */
import type { ChartToDraw } from '../charts/render-chart.js';
import type { SqlDialect, SqlValue } from '../sources/source.js';

export const reportFormats = ['markdown', 'html', 'pdf'] as const;
export type ReportFormat = (typeof reportFormats)[number];

/** Where a step sits in the analyst's flow. */
export const stepStages = ['cleaning', 'exploration', 'analysis'] as const;
export type StepStage = (typeof stepStages)[number];

export interface ResultFingerprint {
  columns: string[];
  /** Rows the step produced (all of them, not only those kept in `rows`). */
  rowCount: number;
  /** True when the query stopped at its row cap. */
  truncated: boolean;
  /** sha256 (hex) of the canonical JSON of columns and every row produced, in order. */
  hash: string;
}

export interface ReportStep {
  /** 1-based, in the order the steps ran. */
  index: number;
  /** `run_sql` and `load_data` run SQL, `run_python` Python; `offline` is the offline analyst's query. */
  tool: 'run_sql' | 'load_data' | 'run_python' | 'offline';
  language: 'sql' | 'python';
  /** The exact code that ran (after any edit the user approved). */
  code: string;
  /** load_data: the DataFrame it made. */
  frame?: string;
  stage: StepStage;
  status: 'ok' | 'error' | 'skipped' | 'refused';
  /** What came back, in a sentence. */
  summary: string;
  /** SQL results: the first rows (at most 50) and the fingerprint of all of them. */
  result?: ResultFingerprint & { rows: SqlValue[][] };
  /** Figure files the step made, relative to the report folder. */
  figures: string[];
}

export interface ReportInput {
  /** A table the steps read. */
  table: string;
  rows: number;
  /** False when `rows` is the engine's estimate. */
  exact: boolean;
  /** sha256 of the table's content (canonical JSON of every row, ordered by all columns); absent for tables too large to hash. */
  hash?: string;
}

export interface ReportFinding {
  /** A paragraph of the narrative. */
  text: string;
  chart?: ChartToDraw;
  /** The step whose result the finding describes. */
  step?: number;
  /** How each column of that result reads, by position: `percent` columns hold fractions shown as percent. */
  formats?: string[];
}

export interface NumberCheck {
  /** Numbers found in the narrative. */
  checked: number;
  /** Numbers no result supports, as written in the text. */
  unsupported: string[];
}

export interface Report {
  version: 1;
  title: string;
  language: 'zh' | 'en';
  question: string;
  /** ISO 8601. */
  createdAt: string;
  analyst: 'offline' | 'agent';
  model?: string;
  session?: string;
  data: {
    /** How the source is named to a person (never a password). */
    source: string;
    /** What to pass as `--data` to run it again, when it holds no secret; absent otherwise. */
    spec?: string;
    dialect: SqlDialect;
    inputs: ReportInput[];
    /** Filters the analysis applied, as conditions; empty when it used every row. */
    filters: string[];
    /** The dictionary's definitions of the metrics the analysis used (or, when none is known, all of them). */
    metrics: { name: string; label: string; sql: string; description?: string }[];
    dictionaryVersion: string;
    dictionaryFile?: string;
  };
  plan: string[];
  steps: ReportStep[];
  findings: ReportFinding[];
  /** The answer given at the end of the analysis. */
  answer: string;
  methodNotes: string[];
  limitations: string[];
  nextSteps: string[];
  /** The narrative's numbers checked against the results; unsupported ones are flagged in the report. */
  numbers: NumberCheck;
}

/** The files of a report folder. */
export const reportFiles = { json: 'report.json', markdown: 'report.md', html: 'report.html', pdf: 'report.pdf', charts: 'charts' } as const;
