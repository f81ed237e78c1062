/**
 * For the tests: the demo database (scale 1, seed 42, the data the question sets were written on) in a
 * temporary folder, opened as a source, with the demo dictionary and an offline analyst whose "today"
 * is the question sets' 2026-11-21.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemoDatabase } from '../../demo/generate.js';
import { loadDictionary } from '../../dictionary/load-dictionary.js';
import type { Dictionary } from '../../dictionary/dictionary.js';
import { assetPath } from '../../package-root.js';
import { openSource } from '../../sources/open-source.js';
import type { DataSource } from '../../sources/source.js';
import { OfflineAnalyst } from '../analyst.js';

export const evalToday = '2026-11-21';

export interface DemoAnalyst {
  folder: string;
  database: string;
  source: DataSource;
  dictionary: Dictionary;
  analyst: OfflineAnalyst;
  close(): Promise<void>;
}

export async function openDemoAnalyst(): Promise<DemoAnalyst> {
  const folder = mkdtempSync(join(tmpdir(), 'iquery-analyst-'));
  const database = join(folder, 'telco.duckdb');
  await generateDemoDatabase({ path: database, scale: 1, seed: 42 });
  const source = await openSource(database, { home: folder });
  const dictionary = loadDictionary(assetPath('demo', 'telco.dictionary.yaml'));
  const analyst = await OfflineAnalyst.create(source, dictionary, { today: evalToday });
  return {
    folder,
    database,
    source,
    dictionary,
    analyst,
    async close() {
      await source.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
