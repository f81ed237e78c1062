/**
 * The dictionary a server's new sessions read, and where an edited one is saved: the `--dict` file
 * when the server was given one, else IQUERY_HOME/serve/dictionary.yaml. Without `--dict`, a
 * dictionary saved there by an earlier server is used first, then one beside the data file, then one
 * drafted from the data.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sidecarDictionary } from '../analyst/open-analyst.js';
import type { Dictionary } from '../dictionary/dictionary.js';
import { loadDictionary, parseDictionary } from '../dictionary/load-dictionary.js';
import type { DataSource } from '../sources/source.js';

/** Where a server without `--dict` saves the dictionary edited in the web. */
export function serveDictionaryPath(home: string): string {
  return join(home, 'serve', 'dictionary.yaml');
}

interface Current {
  dictionary: Dictionary;
  yaml: string;
  /** The file it was read from; absent when drafted. */
  file?: string;
}

/** `GET /api/dictionary`: the YAML, the parsed content (without source locations), and its file. */
export interface DictionaryView {
  yaml: string;
  dictionary: { name: string; version: string; tables: unknown[]; metrics: unknown[] };
  file?: string;
}

export class DictionaryStore {
  private current: Current;
  /** Where `save` writes. */
  readonly saveTo: string;

  private constructor(current: Current, saveTo: string) {
    this.current = current;
    this.saveTo = saveTo;
  }

  /** Reads the dictionary in the order described above; a file that does not parse is an error (`dictionary_invalid`). */
  static async open(source: DataSource, options: { home: string; dictPath?: string; dataPath?: string }): Promise<DictionaryStore> {
    if (options.dictPath !== undefined) return new DictionaryStore(fromFile(options.dictPath), options.dictPath);
    const saveTo = serveDictionaryPath(options.home);
    const file = existsSync(saveTo) ? saveTo : sidecarDictionary(options.dataPath);
    if (file !== undefined) return new DictionaryStore(fromFile(file), saveTo);
    const [{ draftDictionary }, { renderDictionaryYaml }] = await Promise.all([import('../dictionary/draft-dictionary.js'), import('../dictionary/render-dictionary.js')]);
    const dictionary = await draftDictionary(source);
    const yaml = renderDictionaryYaml(dictionary, { comment: `Drafted by iquery from ${source.label}; review descriptions, synonyms and sensitivity.` });
    return new DictionaryStore({ dictionary, yaml }, saveTo);
  }

  get dictionary(): Dictionary {
    return this.current.dictionary;
  }

  /** Where the dictionary came from: its file, or `drafted`. */
  get origin(): string {
    return this.current.file ?? 'drafted';
  }

  view(): DictionaryView {
    const { dictionary, yaml, file } = this.current;
    const content = withoutLocations({ tables: dictionary.tables, metrics: dictionary.metrics }) as { tables: unknown[]; metrics: unknown[] };
    return { yaml, dictionary: { name: dictionary.name, version: dictionary.version, ...content }, ...(file === undefined ? {} : { file }) };
  }

  /**
   * Validates the YAML by parsing it and, when it parses, writes it to `saveTo` (whole, under a
   * temporary name, then renamed); sessions created from then on read it. Throws `dictionary_invalid`
   * with `details.problems` (line and column of each) when it does not parse; nothing is written then.
   */
  save(yaml: string): Dictionary {
    const dictionary = parseDictionary(yaml, this.saveTo);
    mkdirSync(dirname(this.saveTo), { recursive: true });
    const temporary = `${this.saveTo}.${process.pid}.writing`;
    writeFileSync(temporary, yaml);
    renameSync(temporary, this.saveTo);
    this.current = { dictionary, yaml, file: this.saveTo };
    return dictionary;
  }
}

function fromFile(file: string): Current {
  const dictionary = loadDictionary(file);
  return { dictionary, yaml: readFileSync(file, 'utf8'), file };
}

/** Source locations are for messages, not for the web. */
function withoutLocations(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, inner: unknown) => (key === 'location' ? undefined : inner)));
}
