import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { once } from 'node:events';
import { IqueryError, messageOf } from '../../errors.js';
import { quoteLiteral, quoteWithDoubleQuotes } from '../quote.js';

export const fileFormats = ['csv', 'tsv', 'parquet', 'json', 'excel'] as const;
export type FileFormat = (typeof fileFormats)[number];

export interface DataFile {
  /** Table name: the file's stem (`sales.csv.gz` → `sales`). */
  table: string;
  /** Absolute, resolved path. */
  path: string;
  format: FileFormat;
  size: number;
  modifiedMs: number;
}

/** Bumped whenever the way files are loaded changes, so that stale caches are not reused. */
const loaderVersion = 2;

const formatsBySuffix: ReadonlyArray<readonly [string, FileFormat]> = [
  ['.csv', 'csv'],
  ['.csv.gz', 'csv'],
  ['.tsv', 'tsv'],
  ['.tsv.gz', 'tsv'],
  ['.tab', 'tsv'],
  ['.parquet', 'parquet'],
  ['.json', 'json'],
  ['.json.gz', 'json'],
  ['.jsonl', 'json'],
  ['.jsonl.gz', 'json'],
  ['.ndjson', 'json'],
  ['.ndjson.gz', 'json'],
  ['.xlsx', 'excel'],
];

export const supportedSuffixes = formatsBySuffix.map(([suffix]) => suffix);

function formatOf(fileName: string): { format: FileFormat; stem: string } | undefined {
  const lower = fileName.toLowerCase();
  // Longest suffix first, so that `.csv.gz` wins over `.gz`-less matches.
  const match = [...formatsBySuffix].sort((a, b) => b[0].length - a[0].length).find(([suffix]) => lower.endsWith(suffix));
  if (match === undefined) return undefined;
  return { format: match[1], stem: fileName.slice(0, fileName.length - match[0].length) };
}

function describeFile(path: string, stem: string, format: FileFormat): DataFile {
  const info = statSync(path);
  return { table: stem, path, format, size: info.size, modifiedMs: info.mtimeMs };
}

/**
 * The tables a file or folder provides: one per supported file, named after its stem. A folder is read
 * one level deep; hidden files and unsupported ones are skipped.
 */
export function planDataFiles(target: string): DataFile[] {
  if (!existsSync(target)) {
    throw new IqueryError('not_found', `No file or folder at ${target}.`, { hint: 'Check the path given to --data.' });
  }
  const path = realpathSync(target);
  const info = statSync(path);
  if (info.isFile()) {
    if (extname(path).toLowerCase() === '.xls') {
      throw new IqueryError('bad_input', `${target} is a legacy .xls workbook, which iquery cannot read.`, {
        hint: 'Save it as .xlsx or CSV and try again.',
      });
    }
    const detected = formatOf(basename(path));
    if (detected === undefined) {
      throw new IqueryError('bad_input', `iquery cannot load ${target}: unknown file type.`, {
        hint: `Supported: ${supportedSuffixes.join(', ')}, .duckdb files, folders of these, mysql:// and postgres:// URLs.`,
      });
    }
    return [describeFile(path, detected.stem, detected.format)];
  }
  const files: DataFile[] = [];
  for (const entry of readdirSync(path).sort()) {
    if (entry.startsWith('.')) continue;
    const child = join(path, entry);
    if (!statSync(child).isFile()) continue;
    const detected = formatOf(entry);
    if (detected !== undefined) files.push(describeFile(child, detected.stem, detected.format));
  }
  if (files.length === 0) {
    throw new IqueryError('bad_input', `The folder ${target} holds no data files iquery can load.`, {
      hint: `Supported: ${supportedSuffixes.join(', ')}.`,
    });
  }
  const seen = new Map<string, string>();
  for (const file of files) {
    const key = file.table.toLowerCase();
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new IqueryError('bad_input', `Two files in ${target} would both become table "${file.table}": ${basename(earlier)} and ${basename(file.path)}.`, {
        hint: 'Rename or move one of them; table names come from file names without their extension.',
      });
    }
    seen.set(key, file.path);
  }
  return files;
}

/** Where the cached database for these files lives, and the prefix its stale versions share. */
export function cacheLocation(files: readonly DataFile[], cacheDirectory: string): { path: string; prefix: string } {
  const pathsKey = createHash('sha256').update(JSON.stringify(files.map((file) => file.path))).digest('hex').slice(0, 16);
  const contentKey = createHash('sha256')
    .update(JSON.stringify({ loaderVersion, files: files.map((file) => [file.table, file.size, file.modifiedMs]) }))
    .digest('hex')
    .slice(0, 16);
  return { path: join(cacheDirectory, `${pathsKey}-${contentKey}.duckdb`), prefix: `${pathsKey}-` };
}


/**
 * Fields holding nothing but a space count as missing, like empty ones: exports often write a blank
 * for "no value" (the Telco data's TotalCharges), and a numeric column should stay numeric.
 */
const nullStrings = "nullstr = ['', ' ']";

/** Words DuckDB's sniffer reads as booleans but people write as text, and query as text. */
const yesNoWords = new Set(['yes', 'no', 'y', 'n']);

/**
 * Loads a delimited text file with DuckDB's CSV reader. The sniffer types Yes/No columns as BOOLEAN,
 * which would turn the file's `Yes` into `true` (and break `Churn = 'Yes'`), so such columns are
 * kept as text, as written; columns of true/false stay BOOLEAN.
 */
async function loadDelimited(connection: DuckDBConnection, table: string, path: string, options: string): Promise<void> {
  const base = `${quoteLiteral(path)}${options}, ${nullStrings}`;
  const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_csv(${base})`);
  const booleanColumns = described.getRowsJS().filter((row) => row[1] === 'BOOLEAN').map((row) => String(row[0]));
  let types = '';
  if (booleanColumns.length > 0) {
    const sample = await connection.runAndReadAll(
      `SELECT ${booleanColumns.map(quoteWithDoubleQuotes).join(', ')} FROM read_csv(${base}, all_varchar = true) LIMIT 10000`,
    );
    const rows = sample.getRowsJS();
    const textual = booleanColumns.filter((_, index) => rows.some((row) => yesNoWords.has(String(row[index] ?? '').trim().toLowerCase())));
    if (textual.length > 0) types = `, types = {${textual.map((column) => `${quoteLiteral(column)}: 'VARCHAR'`).join(', ')}}`;
  }
  const create = (scanAllRows: boolean): string =>
    `CREATE TABLE ${quoteWithDoubleQuotes(table)} AS SELECT * FROM read_csv(${base}${types}${scanAllRows ? ', sample_size = -1' : ''})`;
  try {
    await connection.run(create(false));
  } catch {
    // The sniffer looks at a sample; a column that changes type late in the file needs a full scan.
    await connection.run(`DROP TABLE IF EXISTS ${quoteWithDoubleQuotes(table)}`);
    await connection.run(create(true));
  }
}

async function loadOne(connection: DuckDBConnection, file: DataFile, scratch: string): Promise<void> {
  const table = quoteWithDoubleQuotes(file.table);
  switch (file.format) {
    case 'csv':
      return loadDelimited(connection, file.table, file.path, '');
    case 'tsv':
      return loadDelimited(connection, file.table, file.path, ", delim = '\t'");
    case 'excel':
      return loadWorkbook(connection, file, scratch);
    case 'parquet':
      await connection.run(`CREATE TABLE ${table} AS SELECT * FROM read_parquet(${quoteLiteral(file.path)})`);
      return;
    case 'json':
      await connection.run(`CREATE TABLE ${table} AS SELECT * FROM read_json_auto(${quoteLiteral(file.path)})`);
      return;
  }
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString().replace('T00:00:00.000Z', '') : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Excel has no reader in the DuckDB build that npm ships (the `excel` extension needs a download), so a
 * workbook is parsed in JavaScript, written to a scratch CSV, and typed by DuckDB's CSV sniffer. The
 * first sheet becomes the table named after the file; further sheets become `<stem>_<sheet name>`.
 */
async function loadWorkbook(connection: DuckDBConnection, file: DataFile, scratch: string): Promise<void> {
  const { default: readXlsxFile } = await import('read-excel-file/node');
  let sheets: Awaited<ReturnType<typeof readXlsxFile>>;
  try {
    sheets = await readXlsxFile(file.path);
  } catch (error) {
    throw new IqueryError('bad_input', `Cannot read the workbook ${file.path}: ${messageOf(error)}`, {
      hint: 'Check that it is a valid .xlsx file, or export it as CSV.',
    });
  }
  for (const [index, sheet] of sheets.entries()) {
    if (sheet.data.length === 0) continue;
    const table = index === 0 ? file.table : `${file.table}_${sheet.sheet}`;
    const csvPath = join(scratch, `sheet-${index}.csv`);
    const output = createWriteStream(csvPath);
    for (const row of sheet.data) {
      if (!output.write(row.map(csvField).join(',') + '\n')) await once(output, 'drain');
    }
    output.end();
    await once(output, 'finish');
    await loadDelimited(connection, table, csvPath, ', header = true');
  }
}

/**
 * Loads the files into a DuckDB database file under `cacheDirectory` and returns its path. The cache is
 * keyed by the files' paths, sizes and modification times, so an unchanged set of files is loaded once;
 * it is written under a temporary name and renamed, so a crash never leaves a half-built cache.
 */
export async function buildCacheDatabase(
  files: readonly DataFile[],
  cacheDirectory: string,
  onProgress: (message: string) => void = () => undefined,
): Promise<string> {
  const { path, prefix } = cacheLocation(files, cacheDirectory);
  if (existsSync(path)) return path;
  mkdirSync(cacheDirectory, { recursive: true });
  const temporary = `${path}.building-${process.pid}`;
  const scratch = `${temporary}.scratch`;
  mkdirSync(scratch, { recursive: true });
  rmSync(temporary, { force: true });
  const instance = await DuckDBInstance.create(temporary, { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
  const connection = await instance.connect();
  try {
    for (const file of files) {
      onProgress(`loading ${basename(file.path)} as table ${file.table}`);
      try {
        await loadOne(connection, file, scratch);
      } catch (error) {
        if (error instanceof IqueryError) throw error;
        throw new IqueryError('bad_input', `Could not load ${file.path}: ${messageOf(error)}`, {
          hint: 'Check that the file is well-formed for its extension.',
          cause: error,
        });
      }
    }
    await connection.run('CHECKPOINT');
  } catch (error) {
    connection.closeSync();
    instance.closeSync();
    rmSync(temporary, { force: true });
    rmSync(`${temporary}.wal`, { force: true });
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  connection.closeSync();
  instance.closeSync();
  rmSync(scratch, { recursive: true, force: true });
  renameSync(temporary, path);
  for (const entry of readdirSync(cacheDirectory)) {
    const stale = join(cacheDirectory, entry);
    if (entry.startsWith(prefix) && stale !== path && !entry.includes('.building-')) rmSync(stale, { force: true });
  }
  return path;
}
