/**
 * Which dictionary the analyst reads: the one given (`--dict`), else one kept beside the data file
 * (`telco.duckdb` → `telco.dictionary.yaml`, as the demo has), else one drafted from introspection.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Dictionary } from '../dictionary/dictionary.js';
import { loadDictionary } from '../dictionary/load-dictionary.js';
import type { DataSource } from '../sources/source.js';
import { OfflineAnalyst } from './analyst.js';

export interface AnalystDictionary {
  dictionary: Dictionary;
  /** Where it came from: a file path, or `drafted`. */
  origin: string;
}

/** `name.dictionary.yaml` beside a data file or folder, when there is one. */
export function sidecarDictionary(dataPath: string | undefined): string | undefined {
  if (dataPath === undefined || /^[a-z]+:\/\//i.test(dataPath) || !existsSync(dataPath)) return undefined;
  const stem = basename(dataPath).replace(/\.[^.]+$/, '');
  const candidate = join(dirname(dataPath), `${stem}.dictionary.yaml`);
  return existsSync(candidate) ? candidate : undefined;
}

export async function dictionaryFor(source: DataSource, options: { dictPath?: string; dataPath?: string }): Promise<AnalystDictionary> {
  if (options.dictPath !== undefined) return { dictionary: loadDictionary(options.dictPath), origin: options.dictPath };
  const sidecar = sidecarDictionary(options.dataPath);
  if (sidecar !== undefined) return { dictionary: loadDictionary(sidecar), origin: sidecar };
  const { draftDictionary } = await import('../dictionary/draft-dictionary.js');
  return { dictionary: await draftDictionary(source), origin: 'drafted' };
}

export async function openAnalyst(source: DataSource, options: { dictPath?: string; dataPath?: string; today?: string }): Promise<{ analyst: OfflineAnalyst; origin: string }> {
  const { dictionary, origin } = await dictionaryFor(source, options);
  return { analyst: await OfflineAnalyst.create(source, dictionary, options.today === undefined ? {} : { today: options.today }), origin };
}
