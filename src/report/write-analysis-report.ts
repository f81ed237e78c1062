/**
 * One call for every way a report is asked for (`--report DIR`, `/report`, the web button, the
 * write_report tool): build the report from the analysis, then render it into the folder.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AgentSessionRecord, AgentTurnRecord } from '../agent/session-store.js';
import type { AskResult } from '../analyst/analyst.js';
import type { Dictionary } from '../dictionary/dictionary.js';
import { hasUrlScheme } from '../sources/connection-url.js';
import type { DataSource } from '../sources/source.js';
import { buildAgentReport, buildOfflineReport } from './build-report.js';
import type { Report } from './report.js';
import { writeReport, type RenderedReport } from './render-report.js';

export interface ReportTarget {
  source: DataSource;
  dictionary: Dictionary;
  /** The `--data` the analysis ran on, recorded for `iquery rerun` unless it is a server URL (which may hold a password). */
  data?: string;
  folder: string;
}

/**
 * A `--data` value safe to write into report.json: files and folders as absolute paths, a saved
 * connection by its name (the password stays in the connections file); server URLs, which may hold
 * a password, are left out.
 */
export function rerunSpec(data: string | undefined): string | undefined {
  if (data === undefined || hasUrlScheme(data)) return undefined;
  return existsSync(data) ? resolve(data) : data;
}

export type AnalysisToReport =
  | { analyst: 'offline'; result: AskResult }
  | { analyst: 'agent'; record: AgentSessionRecord; sessionFolder: string; turn?: AgentTurnRecord; narrative?: string; title?: string };

/** Builds the report of an analysis and writes report.json, .md, .html (and .pdf when Chromium is there) into `target.folder`. */
export async function writeAnalysisReport(analysis: AnalysisToReport, target: ReportTarget): Promise<RenderedReport & { report: Report }> {
  const folder = resolve(target.folder);
  mkdirSync(folder, { recursive: true });
  const spec = rerunSpec(target.data);
  const context = { source: target.source, dictionary: target.dictionary, folder, ...(spec === undefined ? {} : { dataSpec: spec }) };
  if (analysis.analyst === 'offline') {
    const report = await buildOfflineReport(analysis.result, context);
    return { ...(await writeReport(report, folder)), report };
  }
  const report = await buildAgentReport(analysis.record, {
    ...context,
    sessionFolder: analysis.sessionFolder,
    ...(analysis.turn === undefined ? {} : { turn: analysis.turn }),
    ...(analysis.narrative === undefined ? {} : { narrative: analysis.narrative }),
    ...(analysis.title === undefined ? {} : { title: analysis.title }),
  });
  return { ...(await writeReport(report, folder, { figuresFrom: analysis.sessionFolder })), report };
}
