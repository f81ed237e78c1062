/**
 * Keeps sensitive columns away from the language model. The dictionary marks columns `confidential`
 * (their values are masked in everything the model sees) or `restricted` (their values never leave
 * the database). `judgeSensitiveColumns` reads a query on its parsed tree and says whether it may run
 * and which result columns to mask; `maskRows` and `maskValue` do the masking.
 *
 * Restricted columns may only be counted — COUNT(column), COUNT(DISTINCT column) — or tested with
 * IS NULL / IS NOT NULL. Everything else that touches one is refused, comparisons in WHERE and JOIN
 * included: a model that may filter on a value can find it by binary search (`WHERE ssn < '5'`, then
 * `< '3'`, …) however little each answer says. A confidential column may be filtered, grouped and
 * sorted on freely; any result column computed from one (other than by COUNT or IS NULL) is masked.
 * When unsure, it refuses or masks: see `query-lineage.ts` for how names are resolved.
 */
import { createHmac } from 'node:crypto';
import type { Dictionary } from '../dictionary/dictionary.js';
import { parseStatements } from '../guard/parser.js';
import { asTaggedNode } from '../guard/walk.js';
import type { SqlDialect, SqlValue } from '../sources/source.js';
import type { StarOrigin } from './lineage.js';
import { traceQuery } from './query-lineage.js';
import type { Violation } from './query-lineage.js';
import { createSensitivityCatalog } from './sensitivity-catalog.js';
import type { SchemaTable } from './sensitivity-catalog.js';

export type { SchemaTable } from './sensitivity-catalog.js';

/** A result column whose values must be masked before the model sees them. */
export interface MaskedColumn {
  /** 0-based position in the result. */
  index: number;
  /**
   * The name the database gives the column: exact for aliases, columns and stars; for an unaliased
   * expression an approximation (PostgreSQL's rule: the function's name, `case`, or `?column?`).
   */
  name: string;
  /** The confidential columns behind it, as `table.column`, sorted. */
  sources: string[];
}

export interface SensitiveColumnVerdict {
  /** False when the query would take a restricted column out of the database, or cannot be checked. */
  allowed: boolean;
  /** Why it is refused, for a person and the model: which restricted columns, and what to do instead. Absent when allowed. */
  reason?: string;
  /** Result columns (by position and name) computed from confidential columns. Computed even when refused. */
  masked: MaskedColumn[];
  /**
   * Set when a star over a table whose columns iquery does not know (or DuckDB's COLUMNS(…)) comes
   * before confidential values, so their positions cannot be known: mask every result column from
   * this 0-based position on. `maskedIndexes` folds it in.
   */
  maskFrom?: number;
}

/**
 * Judges one query against the dictionary. `tables` is the introspected schema (`TableInfo[]` fits):
 * it expands stars and resolves unqualified names; a table missing from it is taken from the
 * dictionary, and its star has unknown width. Never throws: text the parser cannot read, several
 * statements, a shape the check does not know, or a failure inside the check are refused. A query
 * naming no table with restricted or confidential columns is allowed at once with nothing masked.
 * Runs in about the time of one parse (a millisecond or two for a typical query).
 */
export function judgeSensitiveColumns(
  sql: string,
  dialect: SqlDialect,
  dictionary: Pick<Dictionary, 'tables'>,
  tables: readonly SchemaTable[],
): SensitiveColumnVerdict {
  try {
    return judge(sql, dialect, dictionary, tables);
  } catch (error) {
    const message = error instanceof RangeError ? 'the query is nested too deeply' : error instanceof Error ? error.message : String(error);
    return refused(`iquery could not check how it uses sensitive columns (${message}), so it is refused.`);
  }
}

function judge(sql: string, dialect: SqlDialect, dictionary: Pick<Dictionary, 'tables'>, tables: readonly SchemaTable[]): SensitiveColumnVerdict {
  const parsed = parseStatements(sql, dialect);
  if (!parsed.ok) {
    const firstLine = parsed.error.split('\n')[0] ?? parsed.error;
    return refused(`the SQL parser could not read it (${firstLine}), so how it uses sensitive columns cannot be checked.`);
  }
  const [statement, ...others] = parsed.statements;
  if (statement === undefined || others.length > 0) return refused('it is not exactly one statement; send one query at a time.');
  const kind = asTaggedNode(statement)?.kind;
  if (kind === undefined || !queryKinds.has(kind)) return refused('it is not a query (SELECT, WITH … SELECT, VALUES or a set operation of these).');
  const catalog = createSensitivityCatalog(statement, dictionary, tables);
  if (!catalog.hasSensitiveColumns) return { allowed: true, masked: [] };

  const trace = traceQuery(statement, dialect, catalog);
  const problems: Problem[] = [...trace.violations];
  for (const output of trace.outputs) {
    for (const column of output.lineage.restricted) {
      problems.push(output.star === undefined ? { kind: 'selected', column } : { kind: 'starred', column, star: output.star });
    }
  }
  const firstUnknown = trace.outputs.findIndex((output) => output.name === undefined);
  const known = firstUnknown === -1 ? trace.outputs : trace.outputs.slice(0, firstUnknown);
  const masked: MaskedColumn[] = [];
  for (const [index, output] of known.entries()) {
    if (output.lineage.confidential.size === 0) continue;
    masked.push({ index, name: output.name ?? '', sources: [...output.lineage.confidential].sort() });
  }
  const verdict: SensitiveColumnVerdict = { allowed: problems.length === 0, masked };
  if (firstUnknown !== -1 && trace.outputs.slice(firstUnknown).some((output) => output.lineage.confidential.size > 0)) {
    verdict.maskFrom = firstUnknown;
  }
  if (problems.length > 0) verdict.reason = refusalReason(problems);
  return verdict;
}

/** Statement kinds that are queries; anything else is refused (the SQL guard refuses it too). */
const queryKinds = new Set(['select', 'union', 'intersect', 'except', 'values', 'subquery', 'paren']);

/** The 0-based result positions to mask for a result of `columnCount` columns: `masked`, plus everything from `maskFrom` on. */
export function maskedIndexes(verdict: Pick<SensitiveColumnVerdict, 'masked' | 'maskFrom'>, columnCount: number): number[] {
  const indexes = new Set(verdict.masked.map((column) => column.index).filter((index) => index < columnCount));
  if (verdict.maskFrom !== undefined) for (let index = verdict.maskFrom; index < columnCount; index += 1) indexes.add(index);
  return [...indexes].sort((left, right) => left - right);
}

/** Hex digits of the pseudonym: 48 bits, so that a million distinct values rarely share one. */
const pseudonymDigits = 12;

/**
 * A stable pseudonym for a value, like `‹masked:3fa91c0b27de›`: the same value and salt always give
 * the same pseudonym, so the model can still count and group, but never sees the value. The salt is
 * an HMAC key: keep it secret and out of the model's reach (one random salt per session), or small
 * value sets (ages, salaries) can be reversed by hashing guesses. The value's type is part of what is
 * hashed (the number 1 and the text '1' differ). null stays null.
 */
export function maskValue(value: SqlValue, salt: string): SqlValue {
  if (value === null) return null;
  const digest = createHmac('sha256', salt).update(`${typeof value}:${String(value)}`).digest('hex');
  return `‹masked:${digest.slice(0, pseudonymDigits)}›`;
}

/**
 * Copies of the rows with the values at the given 0-based positions masked by `maskValue`. Rows are
 * not changed in place; positions past a row's end are ignored; with no positions the rows are
 * returned as they are.
 */
export function maskRows(rows: readonly SqlValue[][], masked: readonly number[], salt: string): SqlValue[][] {
  if (masked.length === 0) return rows as SqlValue[][];
  const positions = new Set(masked);
  const pseudonyms = new Map<string, SqlValue>();
  const pseudonymOf = (value: SqlValue): SqlValue => {
    if (value === null) return null;
    const key = `${typeof value}:${String(value)}`;
    let pseudonym = pseudonyms.get(key);
    if (pseudonym === undefined) {
      pseudonym = maskValue(value, salt);
      pseudonyms.set(key, pseudonym);
    }
    return pseudonym;
  };
  return rows.map((row) => row.map((value, index) => (positions.has(index) ? pseudonymOf(value) : value)));
}

type Problem =
  | Violation
  /** A restricted column named in the result. */
  | { readonly kind: 'selected'; readonly column: string }
  /** A restricted column a star puts in the result. */
  | { readonly kind: 'starred'; readonly column: string; readonly star: StarOrigin };

function refused(reason: string): SensitiveColumnVerdict {
  return { allowed: false, reason, masked: [] };
}

const restrictedAdvice =
  'A restricted column may only be counted, with COUNT(column) or COUNT(DISTINCT column), or tested with column IS NULL / IS NOT NULL; '
  + 'selecting, comparing, filtering, grouping, sorting, joining on or transforming it would reveal its values, so leave it out otherwise.';

/** One sentence naming every problem (columns grouped per place and per star), then what to do. */
function refusalReason(problems: readonly Problem[]): string {
  const groups = new Map<string, { lead: string; columns: Set<string>; tail: string }>();
  const unchecked: string[] = [];
  const add = (key: string, lead: string, column: string, tail: string): void => {
    const group = groups.get(key) ?? { lead, columns: new Set<string>(), tail };
    group.columns.add(column);
    groups.set(key, group);
  };
  for (const problem of problems) {
    switch (problem.kind) {
      case 'selected':
        add('selected', 'it selects', problem.column, '');
        break;
      case 'used':
        add(`used\u0000${problem.place}`, 'it uses', problem.column, ` in ${problem.place}`);
        break;
      case 'starred': {
        const { text, selectable } = problem.star;
        const instead = selectable.length > 0
          ? `list the columns you need instead, from: ${selectable.join(', ')}`
          : 'list the columns you need instead';
        add(`starred\u0000${text}\u0000${selectable.join('\u0000')}`, `${text} includes`, problem.column, `; ${instead}`);
        break;
      }
      case 'unchecked':
        if (!unchecked.includes(problem.why)) unchecked.push(problem.why);
        break;
    }
  }
  if (groups.size === 0) {
    return `iquery cannot check how it uses sensitive columns (it meets ${unchecked.join('; ')}); write a plainer query over the tables.`;
  }
  const parts = [...groups.values()].map(({ lead, columns, tail }) => {
    const noun = columns.size > 1 ? 'the restricted columns' : 'the restricted column';
    return `${lead} ${noun} ${[...columns].join(', ')}${tail}`;
  });
  const also = unchecked.length > 0 ? ` It also meets ${unchecked.join('; ')}, which iquery cannot check.` : '';
  return `${parts.join('; ')}. ${restrictedAdvice}${also}`;
}
