/**
 * Benchmark: what a report costs, against peers measured in the same run on the demo database.
 *  - building the report of an answer (every step run again and fingerprinted, every table read
 *    counted and hashed), rendering Markdown + HTML (charts drawn, PNGs encoded), and printing the
 *    PDF with headless Chromium, each against answering the question itself with the offline analyst;
 *  - hashing a whole table (ordered by every column, canonical JSON, sha256) against streaming the
 *    same rows through the same guarded source without hashing them.
 * Prints medians and ratios.
 *
 * Usage: node dist/bench/report.js [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { OfflineAnalyst } from '../src/analyst/analyst.js';
import { iqueryHome } from '../src/config/home.js';
import { demoDatabasePath } from '../src/demo/demo-paths.js';
import { loadDictionary } from '../src/dictionary/load-dictionary.js';
import { assetPath, packageRoot } from '../src/package-root.js';
import { buildOfflineReport } from '../src/report/build-report.js';
import { findChromium, writeReport } from '../src/report/render-report.js';
import { hashTable } from '../src/report/result-hash.js';
import { openSource } from '../src/sources/open-source.js';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const value = await work();
  return [Number(process.hrtime.bigint() - start) / 1e6, value];
}

const ms = (value: number): string => `${value.toFixed(value < 10 ? 2 : 0)} ms`;

async function main(): Promise<void> {
  const { values: flags } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
  const runs = Number(flags.runs);
  const database = demoDatabasePath(iqueryHome());
  if (!existsSync(database)) spawnSync(process.execPath, [join(packageRoot(), 'bin', 'iquery'), 'demo', '--json'], { stdio: 'ignore' });
  const source = await openSource(database);
  const dictionary = loadDictionary(assetPath('demo', 'telco.dictionary.yaml'));
  const analyst = await OfflineAnalyst.create(source, dictionary, { today: '2026-11-21' });
  const folder = mkdtempSync(join(tmpdir(), 'iquery-bench-report-'));
  const question = '光纤用户里按支付方式的流失率';
  const chromium = findChromium();
  const asked: number[] = [];
  const built: number[] = [];
  const rendered: number[] = [];
  const printed: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const [askMs, result] = await timed(() => analyst.ask(question));
      if (result.status !== 'answered') throw new Error(`the demo question was not answered: ${result.answer}`);
      const [buildMs, report] = await timed(() => buildOfflineReport(result, { source, dictionary }));
      const [renderMs] = await timed(() => writeReport(report, join(folder, `r${run}`), { formats: ['markdown', 'html'] }));
      asked.push(askMs);
      built.push(buildMs);
      rendered.push(renderMs);
      if (chromium !== undefined) {
        const [pdfMs, pdf] = await timed(() => writeReport(report, join(folder, `p${run}`), { formats: ['pdf'], chromium }));
        if (pdf.warnings.length > 0) throw new Error(pdf.warnings.join('; '));
        printed.push(pdfMs);
      }
    }

    // Hashing a table against streaming the same rows.
    const table = 'user_bills';
    const info = await source.describeTable(table);
    const columns = info.columns.filter((column) => column.family !== 'other').map((column) => source.quoteIdentifier(column.name));
    const scanSql = `SELECT * FROM ${source.quoteIdentifier(table)} ORDER BY ${columns.join(', ')}`;
    const hashed: number[] = [];
    const streamed: number[] = [];
    for (let run = 0; run < runs; run++) {
      const [streamMs] = await timed(async () => {
        let rows = 0;
        for await (const batch of source.stream(scanSql, { maxRows: 10_000_000 })) rows += batch.rowCount;
        return rows;
      });
      const [hashMs, counted] = await timed(() => hashTable(source, table, { maxRows: 10_000_000 }));
      if (counted.hash === undefined) throw new Error(`${table} was not hashed`);
      streamed.push(streamMs);
      hashed.push(hashMs);
    }
    const rowsPerSecond = (info.rowCount / median(hashed)) * 1000;
    console.log(
      [
        `report of one offline answer (demo database, ${runs} runs, medians):`,
        `  answering the question:               ${ms(median(asked))}`,
        `  building the report (fingerprints):   ${ms(median(built))}  = ${(median(built) / median(asked)).toFixed(1)}× the answer`,
        `  Markdown + HTML (charts, PNG):         ${ms(median(rendered))}  = ${(median(rendered) / median(asked)).toFixed(1)}× the answer`,
        chromium === undefined ? '  PDF: skipped (no Chromium)' : `  PDF (headless Chromium):              ${ms(median(printed))}  = ${(median(printed) / median(asked)).toFixed(1)}× the answer`,
        `hashing ${table} (${info.rowCount} rows × ${info.columns.length} columns): ${ms(median(hashed))}, ${(rowsPerSecond / 1e6).toFixed(2)}M rows/s; streaming the same ordered rows without hashing: ${ms(median(streamed))}; hash / stream = ${(median(hashed) / median(streamed)).toFixed(2)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await source.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
