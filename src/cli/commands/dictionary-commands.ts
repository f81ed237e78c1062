import type { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { importDbtSchema } from '../../dictionary/dbt-import.js';
import { checkDictionaryAgainstSource } from '../../dictionary/check-dictionary.js';
import { formatProblem, type Dictionary, type DictionaryProblem } from '../../dictionary/dictionary.js';
import { draftDictionary } from '../../dictionary/draft-dictionary.js';
import { loadDictionary } from '../../dictionary/load-dictionary.js';
import { renderDictionaryYaml } from '../../dictionary/render-dictionary.js';
import { IqueryError } from '../../errors.js';
import { withData } from '../open-data.js';
import { printJson, printLine, printNote, type GlobalOptions } from '../output.js';

/** Writes YAML to a file (never over an existing one unless forced) or to stdout. */
function emitYaml(yaml: string, out: string | undefined, force: boolean): void {
  if (out === undefined) {
    process.stdout.write(yaml);
    return;
  }
  if (existsSync(out) && !force) {
    throw new IqueryError('bad_input', `${out} already exists; iquery will not overwrite it.`, {
      hint: 'Choose another --out file, or pass --force to replace it.',
    });
  }
  writeFileSync(out, yaml);
}

function problemsOf(error: unknown): DictionaryProblem[] | undefined {
  if (!(error instanceof IqueryError) || error.code !== 'dictionary_invalid') return undefined;
  const problems = error.details?.['problems'];
  return Array.isArray(problems) ? (problems as DictionaryProblem[]) : undefined;
}

function summary(problems: readonly DictionaryProblem[]): string {
  const errors = problems.filter((problem) => problem.severity === 'error').length;
  return `${errors} ${errors === 1 ? 'error' : 'errors'}, ${problems.length - errors} ${problems.length - errors === 1 ? 'warning' : 'warnings'}`;
}

export function registerDictionaryCommands(program: Command, globals: () => GlobalOptions): void {
  const dict = program.command('dict').description('Data and metric dictionaries: draft, check, import');

  dict
    .command('init')
    .description('Draft a dictionary from the data: types, keys, categorical values, readable names, bilingual synonyms')
    .option('--out <file>', 'write the YAML here instead of stdout')
    .option('--name <name>', 'the dictionary name')
    .option('--force', 'replace --out if it exists')
    .action(async (commandOptions: { out?: string; name?: string; force?: boolean }) => {
      const options = globals();
      await withData(options, async (source) => {
        const draft = await draftDictionary(source, {
          ...(commandOptions.name === undefined ? {} : { name: commandOptions.name }),
          onProgress: options.json ? () => undefined : printNote,
        });
        const yaml = renderDictionaryYaml(draft, { comment: `Drafted by iquery from ${source.label}; review descriptions, synonyms and sensitivity.` });
        if (options.json) {
          if (commandOptions.out !== undefined) emitYaml(yaml, commandOptions.out, commandOptions.force === true);
          printJson({ status: 'ok', name: draft.name, version: draft.version, tables: Object.keys(draft.tables), file: commandOptions.out ?? null, ...(commandOptions.out === undefined ? { yaml } : {}) });
          return;
        }
        emitYaml(yaml, commandOptions.out, commandOptions.force === true);
        if (commandOptions.out !== undefined) printNote(`Wrote ${commandOptions.out} (${Object.keys(draft.tables).length} tables). Check it with: iquery dict check ${commandOptions.out} --data ${options.data ?? '…'}`);
      });
    });

  dict
    .command('check')
    .description('Validate a dictionary; with --data, also against the data (tables, columns, values, metric SQL)')
    .argument('[file]', 'the dictionary (or use --dict)')
    .option('--no-metrics', 'do not run each metric against the data')
    .action(async (file: string | undefined, commandOptions: { metrics: boolean }) => {
      const options = globals();
      const path = file ?? options.dict;
      if (path === undefined) {
        throw new IqueryError('usage', 'No dictionary given.', { hint: 'Run `iquery dict check FILE` or pass --dict FILE.' });
      }
      let dictionary: Dictionary;
      try {
        dictionary = loadDictionary(path);
      } catch (error) {
        const problems = problemsOf(error);
        if (problems === undefined) throw error;
        if (options.json) printJson({ status: 'invalid', file: path, problems });
        else {
          for (const problem of problems) printLine(formatProblem(problem));
          printLine(summary(problems));
        }
        process.exitCode = 1;
        return;
      }
      const problems = [...dictionary.warnings];
      if (options.data !== undefined) {
        problems.push(...(await withData(options, (source) => checkDictionaryAgainstSource(dictionary, source, { runMetrics: commandOptions.metrics }))));
      }
      const failed = problems.some((problem) => problem.severity === 'error');
      if (options.json) {
        printJson({ status: failed ? 'invalid' : 'ok', file: path, version: dictionary.version, checked_against_data: options.data !== undefined, problems });
      } else {
        for (const problem of problems) printLine(formatProblem(problem));
        const scope = options.data === undefined ? ' (format only; add --data to check it against the data)' : '';
        printLine(`${path}: ${summary(problems)}, version ${dictionary.version}${scope}`);
      }
      if (failed) process.exitCode = 1;
    });

  dict
    .command('import')
    .description('Convert a dbt schema.yml (models, columns, descriptions, accepted_values, relationships) into a dictionary')
    .argument('<schema>', 'the dbt schema.yml file')
    .option('--out <file>', 'write the YAML here instead of stdout')
    .option('--name <name>', 'the dictionary name')
    .option('--force', 'replace --out if it exists')
    .action((schema: string, commandOptions: { out?: string; name?: string; force?: boolean }) => {
      const options = globals();
      if (!existsSync(schema)) throw new IqueryError('not_found', `No file at ${schema}.`, { hint: 'Give the path to a dbt schema.yml.' });
      const dictionary = importDbtSchema(readFileSync(schema, 'utf8'), schema, commandOptions.name === undefined ? {} : { name: commandOptions.name });
      const yaml = renderDictionaryYaml(dictionary, { comment: `Imported by iquery from ${schema}.` });
      if (!options.json) for (const warning of dictionary.warnings) printNote(formatProblem(warning));
      if (options.json) {
        if (commandOptions.out !== undefined) emitYaml(yaml, commandOptions.out, commandOptions.force === true);
        printJson({ status: 'ok', name: dictionary.name, version: dictionary.version, tables: Object.keys(dictionary.tables), warnings: dictionary.warnings, file: commandOptions.out ?? null, ...(commandOptions.out === undefined ? { yaml } : {}) });
        return;
      }
      emitYaml(yaml, commandOptions.out, commandOptions.force === true);
    });
}
