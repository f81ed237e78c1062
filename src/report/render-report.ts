/**
 * Renders a `Report` into its folder: report.json (the model itself, which `iquery rerun` reads),
 * report.md with its charts as PNG files, a self-contained report.html (charts as inline SVG,
 * figures as data URIs, styles inline, no external resource) and report.pdf printed from that HTML
 * by headless Chromium when it is installed. Sections follow the analyst's flow, in the report's
 * language; numbers of the narrative that no result supports are marked where they stand.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, extname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import { renderChartSvg, type ChartToDraw } from '../charts/render-chart.js';
import { messageOf } from '../errors.js';
import { numbersIn } from './check-numbers.js';
import { reportFiles, reportFormats, type Report, type ReportFormat, type ReportStep } from './report.js';

export interface RenderOptions {
  /** Formats to write beside report.json. Default: all (markdown, html, pdf). */
  formats?: readonly ReportFormat[];
  /** The folder step figures are relative to (an agent session's folder); they are copied into the report. */
  figuresFrom?: string;
  /** The Chromium to print the PDF with. Default: `IQUERY_CHROMIUM`, else the first chromium on PATH. */
  chromium?: string;
}

export interface RenderedReport {
  folder: string;
  /** Every file written, report.json first. */
  files: { format: ReportFormat | 'json'; path: string }[];
  /** What could not be written and why (a PDF without Chromium, a figure gone missing). */
  warnings: string[];
}

type Language = Report['language'];

const labels = {
  question: { en: 'Question', zh: '问题' },
  answer: { en: 'Answer', zh: '结论' },
  plan: { en: 'Plan', zh: '分析计划' },
  data: { en: 'Data used', zh: '使用的数据' },
  source: { en: 'Source', zh: '数据源' },
  tables: { en: 'Tables', zh: '数据表' },
  table: { en: 'Table', zh: '表' },
  rows: { en: 'Rows', zh: '行数' },
  estimated: { en: 'estimated', zh: '估计值' },
  filters: { en: 'Filters', zh: '筛选条件' },
  noFilters: { en: 'none: every row was used', zh: '无：使用了全部行' },
  metrics: { en: 'Metric definitions (from the metric dictionary)', zh: '指标定义（来自指标字典）' },
  metric: { en: 'Metric', zh: '指标' },
  definition: { en: 'Definition', zh: '定义' },
  noMetrics: { en: 'No governed metric was used.', zh: '未使用受治理的指标。' },
  cleaning: { en: 'Cleaning', zh: '数据清洗' },
  noCleaning: { en: 'No cleaning step: the data was used as stored.', zh: '没有清洗步骤：数据按原样使用。' },
  exploration: { en: 'Exploration', zh: '数据探索' },
  noExploration: { en: 'The question was answered directly, without a separate exploration step.', zh: '问题被直接回答，没有单独的探索步骤。' },
  findings: { en: 'Findings', zh: '发现' },
  result: { en: 'Result', zh: '结果' },
  moreRows: { en: (shown: number, total: number) => `First ${shown} of ${total} rows.`, zh: (shown: number, total: number) => `共 ${total} 行，显示前 ${shown} 行。` },
  unsupportedMark: { en: 'not found in any result', zh: '在任何结果中都找不到' },
  unsupportedNote: { en: (list: string) => `⚠ Numbers no result supports: ${list}. Check them before relying on them.`, zh: (list: string) => `⚠ 以下数字没有任何结果支持：${list}。使用前请核实。` },
  numbersChecked: { en: (count: number) => `All ${count} checked number(s) in the findings match a result.`, zh: (count: number) => `发现中检查的 ${count} 个数字都与结果一致。` },
  method: { en: 'Method notes', zh: '方法说明' },
  limitations: { en: 'Limitations', zh: '局限' },
  nextSteps: { en: 'Next steps', zh: '后续步骤' },
  appendix: { en: 'Appendix: how to reproduce', zh: '附录：如何复现' },
  step: { en: 'Step', zh: '步骤' },
  stage: { en: { cleaning: 'cleaning', exploration: 'exploration', analysis: 'analysis' }, zh: { cleaning: '清洗', exploration: '探索', analysis: '分析' } },
  status: { en: 'status', zh: '状态' },
  rowsHash: { en: (rows: string, hash: string) => `rows ${rows} · sha256 ${hash}`, zh: (rows: string, hash: string) => `行数 ${rows} · sha256 ${hash}` },
  truncatedAt: { en: ' (stopped at the row cap)', zh: '（达到行数上限）' },
  frame: { en: (name: string) => `loaded into the DataFrame \`${name}\``, zh: (name: string) => `载入 DataFrame \`${name}\`` },
  inputs: { en: 'Inputs', zh: '输入' },
  notHashed: { en: 'too large to hash', zh: '过大，未计算哈希' },
  dictionary: { en: (version: string) => `Data dictionary version ${version}`, zh: (version: string) => `数据字典版本 ${version}` },
  rerun: { en: 'Run it again and see which numbers changed:', zh: '重新运行并查看哪些数字变了：' },
  createdBy: { en: (analyst: string, when: string) => `Written by iquery (${analyst}) on ${when}.`, zh: (analyst: string, when: string) => `由 iquery（${analyst}）生成于 ${when}。` },
  offline: { en: 'offline analyst', zh: '离线分析器' },
  figure: { en: 'Figure', zh: '图' },
} as const;

/** Rows of a result shown in the body; the appendix has the fingerprint of all of them. */
const shownRows = 20;

function label<Key extends keyof typeof labels>(key: Key, language: Language): (typeof labels)[Key]['en'] {
  return labels[key][language] as (typeof labels)[Key]['en'];
}

function cellText(value: unknown, format?: string): string {
  if (value === null || value === undefined) return '';
  if (format === 'percent' && typeof value === 'number') return `${(value * 100).toFixed(1)}%`;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  return String(value);
}

/** The report's numbers that no result supports, marked in a paragraph by `mark`. */
function markUnsupported(text: string, unsupported: readonly string[], mark: (number: string) => string, plain: (text: string) => string): string {
  if (unsupported.length === 0) return plain(text);
  let out = '';
  let at = 0;
  for (const occurrence of numbersIn(text)) {
    if (!unsupported.includes(occurrence.text)) continue;
    out += plain(text.slice(at, occurrence.start)) + mark(text.slice(occurrence.start, occurrence.end));
    at = occurrence.end;
  }
  return out + plain(text.slice(at));
}

interface DrawnChart {
  chart: ChartToDraw;
  svg: string;
  /** Path of the PNG relative to the report folder, once written. */
  png?: string;
}

interface Figure {
  /** Relative to the report folder. */
  path: string;
  step: number;
}

interface Assets {
  charts: Map<number, DrawnChart>;
  figures: Figure[];
}

function drawCharts(report: Report): Map<number, DrawnChart> {
  const charts = new Map<number, DrawnChart>();
  report.findings.forEach((finding, index) => {
    if (finding.chart === undefined) return;
    const svg = renderChartSvg(finding.chart);
    if (svg !== undefined) charts.set(index, { chart: finding.chart, svg });
  });
  return charts;
}

function writePngs(charts: Map<number, DrawnChart>, folder: string, warnings: string[]): void {
  if (charts.size === 0) return;
  mkdirSync(join(folder, reportFiles.charts), { recursive: true });
  for (const [index, drawn] of charts) {
    const path = join(reportFiles.charts, `chart-${index + 1}.png`);
    try {
      const png = new Resvg(drawn.svg, { font: { loadSystemFonts: true, defaultFontFamily: 'Noto Sans CJK SC' }, background: 'white', fitTo: { mode: 'width', value: 1200 } }).render().asPng();
      writeFileSync(join(folder, path), png);
      drawn.png = path;
    } catch (error) {
      warnings.push(`chart ${index + 1} could not be drawn as PNG: ${messageOf(error)}`);
    }
  }
}

/** Copies the steps' figures (PNG files a Python step saved) into the report's figures folder. */
function copyFigures(report: Report, from: string | undefined, folder: string, warnings: string[]): Figure[] {
  const figures: Figure[] = [];
  for (const step of report.steps) {
    for (const file of step.figures) {
      const source = resolve(from ?? folder, file);
      const path = join('figures', `step-${step.index}-${basename(file)}`);
      try {
        if (!statSync(source).isFile()) throw new Error('not a file');
        mkdirSync(join(folder, 'figures'), { recursive: true });
        if (resolve(folder, path) !== source) copyFileSync(source, join(folder, path));
        figures.push({ path, step: step.index });
      } catch (error) {
        warnings.push(`figure ${file} of step ${step.index} is missing: ${messageOf(error)}`);
      }
    }
  }
  return figures;
}

/** The step whose result a finding shows as a table: its own step, else (for the first finding) the last analysis step with a result. */
function resultStepOf(report: Report, findingIndex: number): ReportStep | undefined {
  const finding = report.findings[findingIndex];
  if (finding?.step !== undefined) return report.steps.find((step) => step.index === finding.step && step.result !== undefined);
  if (findingIndex !== 0) return undefined;
  return report.steps.filter((step) => step.stage === 'analysis' && step.result !== undefined && step.result.columns.length > 0).at(-1);
}

/** True when the findings say something beyond the answer, so the answer is shown on its own at the top. */
function answerStandsApart(report: Report): boolean {
  const flat = (text: string): string => text.replaceAll(/\s+/gu, ' ').trim();
  return flat(report.answer) !== '' && flat(report.findings.map((finding) => finding.text).join(' ')) !== flat(report.answer);
}

function stepsOf(report: Report, stage: ReportStep['stage']): ReportStep[] {
  return report.steps.filter((step) => step.stage === stage);
}

function rowsText(count: number, truncated: boolean, language: Language): string {
  return `${count}${truncated ? label('truncatedAt', language) : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Markdown

function markdownCell(value: unknown, format?: string): string {
  return cellText(value, format).replaceAll('\\', '\\\\').replaceAll('|', '\\|').replaceAll(/\r?\n/gu, ' ');
}

function markdownTable(columns: readonly string[], rows: readonly (readonly unknown[])[], formats: readonly string[] = []): string {
  const lines = [`| ${columns.map((column) => markdownCell(column)).join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${columns.map((_column, index) => markdownCell(row[index], formats[index])).join(' | ')} |`);
  return lines.join('\n');
}

function fence(code: string, language: string): string {
  const longest = Math.max(2, ...[...code.matchAll(/`+/gu)].map((match) => match[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${language}\n${code.trimEnd()}\n${ticks}`;
}

function renderMarkdown(report: Report, assets: Assets, folder: string): string {
  const language = report.language;
  const out: string[] = [`# ${report.title}`, ''];
  out.push(`## ${label('question', language)}`, '', report.question, '');
  if (answerStandsApart(report)) {
    const answer = markUnsupported(report.answer.trim(), report.numbers.unsupported, (number) => `**${number}**⚠`, (text) => text);
    out.push(`> **${label('answer', language)}:** ${answer.split('\n').join('\n> ')}`, '');
  }
  if (report.plan.length > 0) out.push(`### ${label('plan', language)}`, '', ...report.plan.map((step, index) => `${index + 1}. ${step}`), '');

  out.push(`## ${label('data', language)}`, '', `- ${label('source', language)}: ${report.data.source} (${report.data.dialect})`);
  out.push(`- ${label('filters', language)}: ${report.data.filters.length === 0 ? label('noFilters', language) : report.data.filters.map((filter) => `\`${filter}\``).join('; ')}`, '');
  if (report.data.inputs.length > 0) {
    out.push(markdownTable([label('table', language), label('rows', language)], report.data.inputs.map((input) => [input.table, `${input.rows}${input.exact ? '' : ` (${label('estimated', language)})`}`])), '');
  }
  out.push(`### ${label('metrics', language)}`, '');
  if (report.data.metrics.length === 0) out.push(label('noMetrics', language), '');
  else out.push(...report.data.metrics.map((metric) => `- **${metric.label || metric.name}** (\`${metric.name}\`): \`${metric.sql}\`${metric.description === undefined ? '' : ` — ${metric.description}`}`), '');

  for (const stage of ['cleaning', 'exploration'] as const) {
    out.push(`## ${label(stage, language)}`, '');
    const steps = stepsOf(report, stage);
    if (steps.length === 0) out.push(label(stage === 'cleaning' ? 'noCleaning' : 'noExploration', language), '');
    for (const step of steps) out.push(`- ${label('step', language)} ${step.index}: ${step.summary.split('\n')[0] ?? ''}`);
    if (steps.length > 0) out.push('');
  }

  out.push(`## ${label('findings', language)}`, '');
  report.findings.forEach((finding, index) => {
    if (finding.text !== '') out.push(markUnsupported(finding.text, report.numbers.unsupported, (number) => `**${number}**⚠`, (text) => text), '');
    const drawn = assets.charts.get(index);
    if (drawn?.png !== undefined) out.push(`![${drawn.chart.title}](${drawn.png.split('\\').join('/')})`, '');
    const step = resultStepOf(report, index);
    if (step?.result !== undefined) {
      out.push(markdownTable(step.result.columns, step.result.rows.slice(0, shownRows), report.findings[index]?.formats), '');
      if (step.result.rowCount > shownRows) out.push(`_${label('moreRows', language)(Math.min(shownRows, step.result.rows.length), step.result.rowCount)}_`, '');
    }
  });
  for (const figure of assets.figures) out.push(`![${label('figure', language)} · ${label('step', language)} ${figure.step}](${figure.path.split('\\').join('/')})`, '');
  if (report.numbers.unsupported.length > 0) out.push(`> ${label('unsupportedNote', language)(report.numbers.unsupported.join(', '))}`, '');
  else if (report.numbers.checked > 0) out.push(`_${label('numbersChecked', language)(report.numbers.checked)}_`, '');

  for (const [key, items] of [['method', report.methodNotes], ['limitations', report.limitations], ['nextSteps', report.nextSteps]] as const) {
    out.push(`## ${label(key, language)}`, '', ...items.map((item) => `- ${item}`), '');
  }

  out.push(`## ${label('appendix', language)}`, '');
  out.push(`### ${label('inputs', language)}`, '');
  out.push(`- ${label('dictionary', language)(report.data.dictionaryVersion)}${report.data.dictionaryFile === undefined ? '' : ` (\`${report.data.dictionaryFile}\`)`}`);
  for (const input of report.data.inputs) out.push(`- \`${input.table}\`: ${label('rowsHash', language)(`${input.rows}${input.exact ? '' : ` (${label('estimated', language)})`}`, input.hash ?? label('notHashed', language))}`);
  out.push('');
  for (const step of report.steps) {
    out.push(`### ${label('step', language)} ${step.index} · ${label('stage', language)[step.stage]} · \`${step.tool}\` · ${label('status', language)} ${step.status}`, '');
    if (step.frame !== undefined) out.push(label('frame', language)(step.frame), '');
    out.push(fence(step.code, step.language), '');
    if (step.result !== undefined) out.push(`${label('rowsHash', language)(rowsText(step.result.rowCount, step.result.truncated, language), step.result.hash)}`, '');
  }
  out.push(label('rerun', language), '', fence(rerunCommand(report, folder), 'sh'), '');
  out.push(`_${label('createdBy', language)(report.analyst === 'offline' ? label('offline', language) : (report.model ?? 'agent'), report.createdAt)}_`, '');
  return out.join('\n');
}

function rerunCommand(report: Report, folder: string): string {
  const shown = relative(process.cwd(), folder) || '.';
  const target = shown.startsWith('..') ? folder : shown;
  const quoted = /^[\w./-]+$/u.test(target) ? target : `'${target.replaceAll("'", "'\\''")}'`;
  return report.data.spec === undefined ? `iquery rerun ${quoted} --data <your --data>` : `iquery rerun ${quoted}`;
}

// ---------------------------------------------------------------------------------------------
// HTML

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** Inline markdown of a model's prose (bold, code) on text that is escaped first, so no markup of its own gets through. */
function inlineHtml(text: string): string {
  return escapeHtml(text)
    .replaceAll(/`([^`\n]+)`/gu, '<code>$1</code>')
    .replaceAll(/\*\*([^*\n]+)\*\*/gu, '<strong>$1</strong>');
}

/** A paragraph of prose as HTML: lines starting with "- " or "1. " become a list, the rest one paragraph. */
function proseHtml(text: string, unsupported: readonly string[], language: Language): string {
  const mark = (number: string): string => `<mark class="unsupported" title="${escapeHtml(label('unsupportedMark', language))}">${escapeHtml(number)} ⚠</mark>`;
  const render = (line: string): string => markUnsupported(line, unsupported, mark, inlineHtml);
  const lines = text.split('\n');
  const items = lines.map((line) => /^\s*(?:[-*•]|\d+[.)])\s+(.*)$/u.exec(line)?.[1]);
  if (lines.length > 1 && items.every((item) => item !== undefined)) {
    const ordered = /^\s*\d/u.test(lines[0] ?? '');
    return `<${ordered ? 'ol' : 'ul'}>${items.map((item) => `<li>${render(item ?? '')}</li>`).join('')}</${ordered ? 'ol' : 'ul'}>`;
  }
  return `<p>${lines.map(render).join('<br>')}</p>`;
}

function htmlTable(columns: readonly string[], rows: readonly (readonly unknown[])[], formats: readonly string[] = []): string {
  const head = columns.map((column) => `<th>${escapeHtml(column)}</th>`).join('');
  const body = rows.map((row) => `<tr>${columns.map((_column, index) => `<td${typeof row[index] === 'number' ? ' class="number"' : ''}>${escapeHtml(cellText(row[index], formats[index]))}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** An SVG as it goes inline: without its XML prolog, with a title for screen readers. */
function inlineSvg(svg: string, title: string): string {
  const start = svg.indexOf('<svg');
  const body = start < 0 ? svg : svg.slice(start);
  return `<figure class="chart" role="img" aria-label="${escapeHtml(title)}">${body}</figure>`;
}

function imageDataUri(path: string): string | undefined {
  const types: Record<string, string> = { '.png': 'image/png', '.svg': 'image/svg+xml', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg' };
  const type = types[extname(path).toLowerCase()];
  if (type === undefined || !existsSync(path)) return undefined;
  return `data:${type};base64,${readFileSync(path).toString('base64')}`;
}

const styles = `
body{font-family:"Noto Sans CJK SC","Noto Sans",system-ui,sans-serif;color:#1f2328;max-width:60rem;margin:2rem auto;padding:0 1.25rem;line-height:1.6}
h1{font-size:1.7rem;border-bottom:2px solid #d0d7de;padding-bottom:.4rem}
h2{font-size:1.3rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
h3{font-size:1.05rem;margin-top:1.4rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left}
th{background:#f6f8fa}
td.number{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.7rem;overflow-x:auto;font-size:.85rem;white-space:pre-wrap;word-break:break-word}
code{font-family:"Noto Sans Mono","DejaVu Sans Mono",monospace;font-size:.9em}
figure{margin:1rem 0}
figure.chart svg{max-width:100%;height:auto}
img{max-width:100%}
mark.unsupported{background:#ffe3b3;border-bottom:2px solid #d4700a}
.answer{background:#eef6ff;border-left:4px solid #0969da;padding:.5rem .9rem}
.warning{background:#fff4e5;border-left:4px solid #d4700a;padding:.5rem .9rem}
.muted{color:#59636e;font-size:.9rem}
.hash{font-family:"Noto Sans Mono","DejaVu Sans Mono",monospace;font-size:.8rem;word-break:break-all}
@media print{body{margin:0;max-width:none}pre{white-space:pre-wrap}h2{break-after:avoid}figure,table{break-inside:avoid}}
`;

function renderHtml(report: Report, assets: Assets, folder: string): string {
  const language = report.language;
  const unsupported = report.numbers.unsupported;
  const out: string[] = [];
  const section = (key: keyof typeof labels): void => {
    out.push(`<h2>${escapeHtml(label(key, language) as string)}</h2>`);
  };
  out.push(`<h1>${escapeHtml(report.title)}</h1>`);
  section('question');
  out.push(`<p>${escapeHtml(report.question)}</p>`);
  if (answerStandsApart(report)) out.push(`<div class="answer"><strong>${escapeHtml(label('answer', language))}:</strong> ${proseHtml(report.answer, unsupported, language)}</div>`);
  if (report.plan.length > 0) out.push(`<h3>${escapeHtml(label('plan', language))}</h3><ol>${report.plan.map((step) => `<li>${inlineHtml(step)}</li>`).join('')}</ol>`);

  section('data');
  out.push(`<ul><li>${escapeHtml(label('source', language))}: ${escapeHtml(report.data.source)} (${escapeHtml(report.data.dialect)})</li>`);
  out.push(`<li>${escapeHtml(label('filters', language))}: ${report.data.filters.length === 0 ? escapeHtml(label('noFilters', language)) : report.data.filters.map((filter) => `<code>${escapeHtml(filter)}</code>`).join('; ')}</li></ul>`);
  if (report.data.inputs.length > 0) out.push(htmlTable([label('table', language), label('rows', language)], report.data.inputs.map((input) => [input.table, `${input.rows}${input.exact ? '' : ` (${label('estimated', language)})`}`])));
  out.push(`<h3>${escapeHtml(label('metrics', language))}</h3>`);
  if (report.data.metrics.length === 0) out.push(`<p>${escapeHtml(label('noMetrics', language))}</p>`);
  else out.push(`<ul>${report.data.metrics.map((metric) => `<li><strong>${escapeHtml(metric.label || metric.name)}</strong> (<code>${escapeHtml(metric.name)}</code>): <code>${escapeHtml(metric.sql)}</code>${metric.description === undefined ? '' : ` — ${escapeHtml(metric.description)}`}</li>`).join('')}</ul>`);

  for (const stage of ['cleaning', 'exploration'] as const) {
    section(stage);
    const steps = stepsOf(report, stage);
    if (steps.length === 0) out.push(`<p>${escapeHtml(label(stage === 'cleaning' ? 'noCleaning' : 'noExploration', language))}</p>`);
    else out.push(`<ul>${steps.map((step) => `<li>${escapeHtml(label('step', language))} ${step.index}: ${escapeHtml(step.summary.split('\n')[0] ?? '')}</li>`).join('')}</ul>`);
  }

  section('findings');
  report.findings.forEach((finding, index) => {
    if (finding.text !== '') for (const paragraph of finding.text.split(/\n\s*\n/u)) out.push(proseHtml(paragraph, unsupported, language));
    const drawn = assets.charts.get(index);
    if (drawn !== undefined) out.push(inlineSvg(drawn.svg, drawn.chart.title));
    const step = resultStepOf(report, index);
    if (step?.result !== undefined) {
      out.push(htmlTable(step.result.columns, step.result.rows.slice(0, shownRows), report.findings[index]?.formats));
      if (step.result.rowCount > shownRows) out.push(`<p class="muted">${escapeHtml(label('moreRows', language)(Math.min(shownRows, step.result.rows.length), step.result.rowCount))}</p>`);
    }
  });
  for (const figure of assets.figures) {
    const uri = imageDataUri(join(folder, figure.path));
    const caption = `${label('figure', language)} · ${label('step', language)} ${figure.step}`;
    if (uri !== undefined) out.push(`<figure><img src="${uri}" alt="${escapeHtml(caption)}"><figcaption class="muted">${escapeHtml(caption)}</figcaption></figure>`);
  }
  if (unsupported.length > 0) out.push(`<p class="warning">${escapeHtml(label('unsupportedNote', language)(unsupported.join(', ')))}</p>`);
  else if (report.numbers.checked > 0) out.push(`<p class="muted">${escapeHtml(label('numbersChecked', language)(report.numbers.checked))}</p>`);

  for (const [key, items] of [['method', report.methodNotes], ['limitations', report.limitations], ['nextSteps', report.nextSteps]] as const) {
    section(key);
    out.push(`<ul>${items.map((item) => `<li>${inlineHtml(item)}</li>`).join('')}</ul>`);
  }

  section('appendix');
  out.push(`<h3>${escapeHtml(label('inputs', language))}</h3><ul>`);
  out.push(`<li>${escapeHtml(label('dictionary', language)(report.data.dictionaryVersion))}${report.data.dictionaryFile === undefined ? '' : ` (<code>${escapeHtml(report.data.dictionaryFile)}</code>)`}</li>`);
  for (const input of report.data.inputs) out.push(`<li><code>${escapeHtml(input.table)}</code>: <span class="hash">${escapeHtml(label('rowsHash', language)(`${input.rows}${input.exact ? '' : ` (${label('estimated', language)})`}`, input.hash ?? label('notHashed', language)))}</span></li>`);
  out.push('</ul>');
  for (const step of report.steps) {
    out.push(`<h3>${escapeHtml(`${label('step', language)} ${step.index} · ${label('stage', language)[step.stage]} · ${step.tool} · ${label('status', language)} ${step.status}`)}</h3>`);
    if (step.frame !== undefined) out.push(`<p>${inlineHtml(label('frame', language)(step.frame))}</p>`);
    out.push(`<pre><code class="language-${step.language}">${escapeHtml(step.code.trimEnd())}</code></pre>`);
    if (step.result !== undefined) out.push(`<p class="hash">${escapeHtml(label('rowsHash', language)(rowsText(step.result.rowCount, step.result.truncated, language), step.result.hash))}</p>`);
  }
  out.push(`<p>${escapeHtml(label('rerun', language))}</p><pre><code>${escapeHtml(rerunCommand(report, folder))}</code></pre>`);
  out.push(`<p class="muted">${escapeHtml(label('createdBy', language)(report.analyst === 'offline' ? label('offline', language) : (report.model ?? 'agent'), report.createdAt))}</p>`);

  const htmlLanguage = language === 'zh' ? 'zh-CN' : 'en';
  // No script, and a policy that forbids fetching anything: the file is readable offline, as sent.
  const policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
  return `<!DOCTYPE html>\n<html lang="${htmlLanguage}">\n<head>\n<meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="${policy}">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${escapeHtml(report.title)}</title>\n<style>${styles}</style>\n</head>\n<body>\n${out.join('\n')}\n</body>\n</html>\n`;
}

// ---------------------------------------------------------------------------------------------
// PDF

/** The Chromium to print with: `IQUERY_CHROMIUM`, else the first of the usual names on PATH. */
export function findChromium(): string | undefined {
  const configured = process.env['IQUERY_CHROMIUM'];
  if (configured !== undefined && configured !== '') return existsSync(configured) ? configured : undefined;
  const names = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
  const folders = (process.env['PATH'] ?? '').split(delimiter).filter((folder) => folder !== '');
  for (const folder of [...folders, '/usr/bin']) {
    for (const name of names) {
      const path = join(folder, name);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

const pdfTimeoutMs = 120_000;

/** Prints an HTML file to PDF with headless Chromium; rejects with Chromium's own words when it fails. */
async function printPdf(chromium: string, html: string, pdf: string): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'iquery-chromium-'));
  const args = [
    '--headless',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-extensions',
    // The page is our own and fetches nothing; resolving no host makes sure of it.
    '--host-resolver-rules=MAP * ~NOTFOUND',
    `--user-data-dir=${profile}`,
    '--no-pdf-header-footer',
    `--print-to-pdf=${pdf}`,
    pathToFileURL(html).href,
  ];
  // Chromium's own sandbox cannot start as root; the page is static and script-free.
  if (process.getuid?.() === 0) args.unshift('--no-sandbox');
  try {
    await new Promise<void>((done, fail) => {
      const child = spawn(chromium, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let errors = '';
      child.stderr.on('data', (chunk: Buffer) => {
        errors = (errors + chunk.toString('utf8')).slice(-4000);
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), pdfTimeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        fail(error);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0 && existsSync(pdf) && statSync(pdf).size > 0) done();
        else fail(new Error(signal === 'SIGKILL' ? `Chromium took longer than ${pdfTimeoutMs / 1000} s` : `Chromium exited with ${code ?? signal}: ${errors.trim().split('\n').at(-1) ?? ''}`));
      });
    });
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * Writes the report into `folder` (created when missing): report.json always, then each format
 * asked for. A format that cannot be written (no Chromium for the PDF) becomes a warning, not an error.
 */
export async function writeReport(report: Report, folder: string, options: RenderOptions = {}): Promise<RenderedReport> {
  const target = resolve(folder);
  mkdirSync(target, { recursive: true });
  const formats = options.formats ?? reportFormats;
  const warnings: string[] = [];
  const files: RenderedReport['files'] = [];
  const write = (format: RenderedReport['files'][number]['format'], name: string, content: string): string => {
    const path = join(target, name);
    writeFileSync(path, content);
    files.push({ format, path });
    return path;
  };
  write('json', reportFiles.json, `${JSON.stringify(report, null, 2)}\n`);
  const assets: Assets = { charts: drawCharts(report), figures: copyFigures(report, options.figuresFrom, target, warnings) };
  if (formats.includes('markdown')) {
    writePngs(assets.charts, target, warnings);
    write('markdown', reportFiles.markdown, renderMarkdown(report, assets, target));
  }
  if (formats.includes('html') || formats.includes('pdf')) {
    const html = write('html', reportFiles.html, renderHtml(report, assets, target));
    if (formats.includes('pdf')) {
      const chromium = options.chromium ?? findChromium();
      const pdf = join(target, reportFiles.pdf);
      if (chromium === undefined) warnings.push('no PDF: Chromium was not found (install it with `apt-get install chromium`, or set IQUERY_CHROMIUM)');
      else {
        try {
          await printPdf(chromium, html, pdf);
          files.push({ format: 'pdf', path: pdf });
        } catch (error) {
          warnings.push(`no PDF: ${messageOf(error)}`);
        }
      }
    }
  }
  return { folder: target, files, warnings };
}
