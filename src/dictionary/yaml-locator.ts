/**
 * Reading YAML so that every problem can name its line: the document keeps its nodes, and paths in
 * the parsed data (as zod reports them) lead back to the node, its key and its position.
 */
import { basename } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { IqueryError } from '../errors.js';
import { closestName, didYouMean } from './closest-name.js';
import { formatProblem, problemAt, type DictionaryProblem, type SourceLocation } from './dictionary.js';

export type DataPath = readonly PropertyKey[];

export class Locator {
  constructor(
    private readonly document: Document,
    private readonly lineCounter: LineCounter,
    private readonly file: string,
  ) {}

  at(offset: number): SourceLocation {
    const position = this.lineCounter.linePos(offset);
    return { file: this.file, line: position.line, column: position.col };
  }

  /** Where the entry named by the path's last segment starts: its key, or its list item. */
  key(path: DataPath): SourceLocation {
    const found = this.find(path);
    return this.of(found.key ?? found.value ?? found.deepest);
  }

  /** Where the value at the path is written (the key's place when the value is empty). */
  value(path: DataPath): SourceLocation {
    const found = this.find(path);
    const value = found.value !== undefined && !(isScalar(found.value) && found.value.value === null) ? found.value : undefined;
    return this.of(value ?? found.key ?? found.deepest);
  }

  /** The YAML node at a path, aliases resolved. */
  node(path: DataPath): YamlNode | undefined {
    return this.find(path).value;
  }

  resolve(node: unknown): YamlNode | undefined {
    if (isAlias(node)) return node.resolve(this.document);
    return (node ?? undefined) as YamlNode | undefined;
  }

  private of(node: YamlNode | undefined): SourceLocation {
    return this.at(node?.range?.[0] ?? 0);
  }

  private find(path: DataPath): { key?: YamlNode; value?: YamlNode; deepest: YamlNode | undefined } {
    let current = this.resolve(this.document.contents);
    let deepest = current;
    let key: YamlNode | undefined;
    for (const segment of path) {
      key = undefined;
      if (isMap(current)) {
        const pair = current.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
        if (pair === undefined) return { deepest };
        key = pair.key as YamlNode;
        deepest = key;
        current = this.resolve(pair.value);
      } else if (isSeq(current)) {
        current = this.resolve(current.items[Number(segment)]);
      } else {
        return { deepest };
      }
      if (current?.range !== undefined && current.range !== null) deepest = current;
    }
    const found: { key?: YamlNode; value?: YamlNode; deepest: YamlNode | undefined } = { deepest };
    if (key !== undefined) found.key = key;
    if (current !== undefined) found.value = current;
    return found;
  }
}

export interface ReadYaml {
  /** The document as plain data (maps become objects). */
  data: unknown;
  locator: Locator;
  /** YAML warnings; errors have already been thrown. */
  problems: DictionaryProblem[];
}

/**
 * Parses YAML text, throwing `dictionary_invalid` with `file:line:column` for syntax errors, duplicate
 * keys, keys that are not plain names, and an empty document.
 */
export function readYaml(text: string, fileName: string, what: string): ReadYaml {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locator = new Locator(document, lineCounter, fileName);
  const problems: DictionaryProblem[] = [];
  for (const error of document.errors) problems.push(problemAt('error', locator.at(error.pos[0]), `YAML: ${firstLine(error.message)}`));
  for (const warning of document.warnings) problems.push(problemAt('warning', locator.at(warning.pos[0]), `YAML: ${firstLine(warning.message)}`));
  throwOnErrors(problems, fileName, what);

  visit(document, {
    Pair(_, pair) {
      if (!isScalar(pair.key)) {
        const node = pair.key as YamlNode | null;
        problems.push(problemAt('error', locator.at(node?.range?.[0] ?? 0), 'keys must be plain names, not lists or maps'));
      }
    },
  });
  const data: unknown = document.toJS({ maxAliasCount: 1000 });
  if (data === null || data === undefined) problems.push(problemAt('error', locator.at(0), `the file is empty`));
  throwOnErrors(problems, fileName, what);
  return { data, locator, problems };
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** The file's name without folders and extensions: `assets/telco.dictionary.yaml` → `telco`. */
export function fileStem(fileName: string): string {
  const base = basename(fileName);
  const dot = base.indexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Throws `dictionary_invalid` listing every problem when at least one is an error. */
export function throwOnErrors(problems: DictionaryProblem[], fileName: string, what: string): void {
  const errors = problems.filter((problem) => problem.severity === 'error');
  if (errors.length === 0) return;
  const count = errors.length === 1 ? '1 error' : `${errors.length} errors`;
  throw new IqueryError('dictionary_invalid', `${what} ${fileName} has ${count}:\n${problems.map(formatProblem).join('\n')}`, {
    hint: 'Fix the lines named above and try again.',
    details: { problems },
  });
}

function describeInput(input: unknown): string {
  if (input === null || input === undefined) return 'nothing';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a map';
  if (typeof input === 'string') return `the text "${input}"`;
  return `${typeof input === 'number' ? 'the number' : 'the value'} ${String(input)}`;
}

const expectedWords: Record<string, string> = {
  string: 'text',
  array: 'a list',
  object: 'a map',
  record: 'a map',
  number: 'a number',
};

/**
 * A zod issue as problems at the right line, in words a person writing YAML understands. Unknown keys
 * get one problem each, with the closest allowed key as a suggestion. Messages zod generates start
 * with "Invalid"; messages the schema wrote itself are used as they are.
 */
export function problemsOfIssue(issue: z.core.$ZodIssue, locator: Locator, allowedKeysAt: (path: DataPath) => string[]): DictionaryProblem[] {
  const path = issue.path;
  const name = path.length === 0 ? 'the file' : `"${String(path[path.length - 1])}"`;
  const ownMessage = !issue.message.startsWith('Invalid') && !issue.message.startsWith('Unrecognized');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(path);
      return issue.keys.map((key) =>
        problemAt('error', locator.key([...path, key]), `unknown key "${key}".${didYouMean(closestName(key, allowed))} Allowed here: ${allowed.join(', ')}.`),
      );
    }
    case 'invalid_value':
      return [problemAt('error', locator.value(path), `${name} must be one of ${issue.values.map(String).join(', ')}, not ${describeInput(issue.input)}.`)];
    case 'invalid_type': {
      if (issue.input === undefined) {
        return [problemAt('error', locator.key(path.slice(0, -1)), `missing ${name}${ownMessage ? `: it ${issue.message}` : ''}.`)];
      }
      const expected = ownMessage ? issue.message : `must be ${expectedWords[issue.expected] ?? issue.expected}`;
      return [problemAt('error', locator.value(path), `${name} ${expected}, not ${describeInput(issue.input)}.`)];
    }
    case 'invalid_union':
      return [problemAt('error', locator.value(path), ownMessage ? `${issue.message}.` : `${name} is not valid here.`)];
    case 'too_small':
      return [problemAt('error', locator.value(path), `${name} must not be empty.`)];
    default:
      return [problemAt('error', locator.value(path), `${name}: ${issue.message}`)];
  }
}
