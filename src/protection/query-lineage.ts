/**
 * Traces a query on polyglot's tagged tree (see ../guard/walk.ts): which restricted and confidential
 * base columns stand behind each output column, and every place where a restricted value is used in a
 * way that could reveal it.
 *
 * Names resolve through the query's scopes as a database would, but wherever it could go two ways
 * the trace takes both: tables and their aliases, CTEs (recursive ones until their lineage settles),
 * derived tables with column aliases, joins with USING and NATURAL, select-list aliases (visible to
 * every clause, as DuckDB allows), whole-row references (`SELECT u FROM users u`), and correlated
 * references to outer queries. A name nothing resolves is taken to be every sensitive column of that
 * name in the statement's tables. A shape it does not know is reported as unchecked rather than
 * guessed at.
 *
 * A restricted value may flow, unchanged, through aliases, parentheses, scalar subqueries, derived
 * tables, CTEs and UNION ALL branches that are all restricted at that position; it may be consumed by
 * COUNT(column), COUNT(DISTINCT column) and `column IS [NOT] NULL`. Reaching anything else (an
 * operator, a function, a comparison, a clause, a join condition, a set operation that compares
 * rows, a mix with other values) is a violation. Confidential lineage flows through everything except
 * COUNT and IS NULL, and is dropped by clauses (filtering and sorting do not return the value).
 */
import { asTaggedNode, fieldOf, isRecord, taggedNodes } from '../guard/walk.js';
import type { TaggedNode } from '../guard/walk.js';
import type { SqlDialect } from '../sources/source.js';
import { identifierNames, identifierOf } from './identifier.js';
import type { Identifier } from './identifier.js';
import { lineageOf, mergeLineages, noLineage, sameName, unknownColumns, withoutRestricted } from './lineage.js';
import type { Lineage, StarOrigin, TracedColumn } from './lineage.js';
import type { BaseTable, SensitivityCatalog } from './sensitivity-catalog.js';

/** Something the trace found wrong with a query. */
export type Violation =
  /** A restricted column's value reaches `place`, which could reveal it. */
  | { readonly kind: 'used'; readonly column: string; readonly place: string }
  /** The trace met a shape it cannot follow, so it cannot vouch for the query. */
  | { readonly kind: 'unchecked'; readonly why: string };

export interface QueryTrace {
  /** The statement's output columns in order; unknown runs where the width cannot be known. */
  readonly outputs: readonly TracedColumn[];
  /** Without repeats, in the order found. */
  readonly violations: readonly Violation[];
}

/**
 * Traces one statement (an element of `parseStatements`' result). Never throws for a shape it does
 * not know (that is an `unchecked` violation); a tree too deep for the stack throws a RangeError.
 */
export function traceQuery(statement: unknown, dialect: SqlDialect, catalog: SensitivityCatalog): QueryTrace {
  const tracer = new Tracer(dialect, catalog);
  const outputs = tracer.query(statement, undefined);
  return { outputs, violations: tracer.violations };
}

/** A FROM item as names see it: what it is called and the columns it offers. */
interface Relation extends BaseTable {
  /** Alias or table name; undefined for a table function or other nameless item. */
  readonly name: string | undefined;
}

interface Scope {
  readonly parent: Scope | undefined;
  readonly relations: Relation[];
  readonly ctes: Map<string, readonly TracedColumn[]>;
  /** Select-list aliases, visible to the clauses and to later select items. */
  readonly aliases: TracedColumn[];
  /** What an unqualified `*` yields: the FROM clause's columns after its joins. */
  combined: readonly TracedColumn[];
}

interface Resolution {
  readonly lineage: Lineage;
  /** The name of the column it resolved to, when it resolved to one. */
  readonly name: string | undefined;
}

function createScope(parent: Scope | undefined): Scope {
  return { parent, relations: [], ctes: new Map(), aliases: [], combined: [] };
}

const places = {
  selectList: 'the select list',
  tableFunction: 'a table function in FROM',
  joinOn: 'JOIN … ON',
  joinUsing: 'JOIN … USING, which compares values',
  naturalJoin: 'NATURAL JOIN, which compares values',
  join: 'a JOIN',
  values: 'VALUES',
  countedExpression: 'COUNT(…) around an expression (count the plain column)',
} as const;

/** How each clause of a query is named in messages; other fields are named after their key. */
const clausePlaces: Readonly<Record<string, string>> = {
  where_clause: 'WHERE',
  group_by: 'GROUP BY',
  having: 'HAVING',
  qualify: 'QUALIFY',
  order_by: 'ORDER BY',
  distinct_on: 'DISTINCT ON',
  windows: 'WINDOW',
  limit: 'LIMIT',
  offset: 'OFFSET',
  fetch: 'FETCH',
  sample: 'TABLESAMPLE',
  top: 'TOP',
};

/**
 * Field names that are never expression kinds in polyglot: a single-key record such as the
 * `where_clause` wrapper `{this: …}` is a record holding an expression, not an expression itself.
 */
const wrapperFields = new Set(['this', 'expression', 'expressions', 'query', 'args', 'condition']);

/** Fields that carry layout or comments, never values. */
const ignoredFields = new Set([
  'span', 'trailing_comments', 'leading_comments', 'left_comments', 'operator_comments', 'comments', 'pre_alias_comments',
]);

/** Fields of a SELECT handled on their own; every other field is judged as a clause. */
const selectStructure = new Set(['expressions', 'from', 'joins', 'with', 'distinct', 'into', 'locks', ...ignoredFields]);
const setOperationStructure = new Set(['left', 'right', 'all', 'distinct', 'with', 'by_name', 'corresponding', 'strict', ...ignoredFields]);
const subqueryStructure = new Set([
  'this', 'alias', 'column_aliases', 'alias_explicit_as', 'alias_keyword', 'lateral', 'modifiers_inside', ...ignoredFields,
]);
const joinStructure = new Set([
  'this', 'kind', 'using', 'use_inner_keyword', 'use_outer_keyword', 'deferred_condition', 'nesting_group', 'directed', 'join_hint',
  ...ignoredFields,
]);

/** Joins whose output is the left columns followed by the right ones. */
const concatenatingJoins = new Set([
  'Inner', 'Left', 'Right', 'Full', 'Outer', 'Cross', 'Straight', 'Implicit', 'AsOf', 'AsOfLeft', 'AsOfRight',
  'Positional', 'Lateral', 'LeftLateral', 'CrossApply', 'OuterApply',
]);
const naturalJoins = new Set(['Natural', 'NaturalLeft', 'NaturalRight', 'NaturalFull']);
/** Joins that only filter the left side (DuckDB SEMI and ANTI). */
const leftOnlyJoins = new Set(['Semi', 'Anti', 'LeftSemi', 'LeftAnti']);

/** Recursive CTEs are traced again with their own output until the lineage stops growing. */
const maxRecursiveRounds = 8;

class Tracer {
  readonly violations: Violation[] = [];
  private readonly reported = new Set<string>();

  constructor(
    private readonly dialect: SqlDialect,
    private readonly catalog: SensitivityCatalog,
  ) {}

  // ---- Queries -------------------------------------------------------------------------------

  query(value: unknown, parent: Scope | undefined): readonly TracedColumn[] {
    const node = asTaggedNode(value);
    if (node === undefined) return this.unchecked('a query of a shape iquery does not know');
    switch (node.kind) {
      case 'select':
        return this.select(node.body, parent);
      case 'union':
      case 'intersect':
      case 'except':
        return this.setOperation(node, parent);
      case 'values':
        return this.values(node.body, parent);
      case 'subquery':
      case 'paren': {
        const outputs = this.query(fieldOf(node.body, 'this'), parent);
        this.outputClauses(node.body, outputs, parent, subqueryStructure);
        return outputs;
      }
      default:
        return this.unchecked(`${node.kind} where a query was expected`);
    }
  }

  private select(body: unknown, parent: Scope | undefined): readonly TracedColumn[] {
    const scope = createScope(parent);
    this.withClause(fieldOf(body, 'with'), scope);
    this.fromClause(body, scope);
    const outputs: TracedColumn[] = [];
    for (const item of listOf(fieldOf(body, 'expressions'))) outputs.push(...this.selectItem(item, scope));
    if (isRecord(body)) {
      for (const [field, value] of Object.entries(body)) {
        if (!selectStructure.has(field) && !isAbsent(value)) this.clause(field, value, scope, outputs);
      }
    }
    return outputs;
  }

  private setOperation(node: TaggedNode, parent: Scope | undefined): readonly TracedColumn[] {
    const scope = createScope(parent);
    this.withClause(fieldOf(node.body, 'with'), scope);
    const left = this.query(fieldOf(node.body, 'left'), scope);
    const right = this.query(fieldOf(node.body, 'right'), scope);
    const all = fieldOf(node.body, 'all') === true;
    const label = `${node.kind.toUpperCase()}${all ? ' ALL' : ''}`;
    // UNION, INTERSECT and EXCEPT compare rows: `ssn INTERSECT SELECT '123-45-6789'` tests a guess.
    const comparesValues = !(node.kind === 'union' && all);
    const byName = fieldOf(node.body, 'by_name') === true || fieldOf(node.body, 'corresponding') === true;
    const outputs = byName
      ? [unknownColumns(this.consume(lineageOf([...left, ...right]), `${label} BY NAME, whose columns iquery does not line up`))]
      : this.combineByPosition(left, right, label, comparesValues);
    this.outputClauses(node.body, outputs, scope, setOperationStructure);
    return outputs;
  }

  private values(body: unknown, parent: Scope | undefined): readonly TracedColumn[] {
    const scope = createScope(parent);
    let outputs: readonly TracedColumn[] | undefined;
    for (const row of listOf(fieldOf(body, 'expressions'))) {
      const cells = rowCells(row).map((cell, index) => ({
        name: this.valuesColumnName(index),
        lineage: this.expression(cell, scope, places.values),
      }));
      outputs = outputs === undefined ? cells : this.combineByPosition(outputs, cells, 'VALUES', false);
    }
    return renameRelation(undefined, sameColumns(outputs ?? []), identifierNames(fieldOf(body, 'column_aliases'))).star;
  }

  /** ORDER BY, LIMIT and the like on a set operation or a parenthesized query, over its outputs. */
  private outputClauses(body: unknown, outputs: readonly TracedColumn[], parent: Scope | undefined, structure: ReadonlySet<string>): void {
    if (!isRecord(body)) return;
    let scope: Scope | undefined;
    for (const [field, value] of Object.entries(body)) {
      if (structure.has(field) || isAbsent(value)) continue;
      if (scope === undefined) {
        scope = createScope(parent);
        scope.relations.push({ name: undefined, columns: outputs, star: outputs });
        scope.combined = outputs;
      }
      this.clause(field, value, scope, outputs);
    }
  }

  /**
   * Lines up the columns of two branches (or two VALUES rows). A restricted column may only meet
   * restricted columns at its position, and only where rows are not compared (UNION ALL, VALUES).
   */
  private combineByPosition(left: readonly TracedColumn[], right: readonly TracedColumn[], label: string, comparesValues: boolean): TracedColumn[] {
    const combined: TracedColumn[] = [];
    let index = 0;
    for (; index < left.length && index < right.length; index += 1) {
      const first = left[index];
      const second = right[index];
      if (first === undefined || second === undefined || first.name === undefined || second.name === undefined) break;
      combined.push(this.combineColumns(first, second, label, comparesValues));
    }
    if (index < left.length || index < right.length) {
      const rest = lineageOf([...left.slice(index), ...right.slice(index)]);
      this.consume(rest, `${label}, whose columns iquery cannot line up`);
      combined.push(unknownColumns(rest));
    }
    return combined;
  }

  private combineColumns(first: TracedColumn, second: TracedColumn, label: string, comparesValues: boolean): TracedColumn {
    // The combined column keeps its restricted lineage even when reported: a recursive CTE must
    // still see it in its next round, or it would settle on a lineage without it.
    const lineage = mergeLineages([first.lineage, second.lineage]);
    if (lineage.restricted.size > 0) {
      if (comparesValues) this.consume(lineage, `${label}, which compares values`);
      else if (first.lineage.restricted.size === 0 || second.lineage.restricted.size === 0) {
        this.consume(lineage, `${label} together with other values`);
      }
    }
    const star = first.star ?? second.star;
    return star === undefined ? { name: first.name, lineage } : { name: first.name, lineage, star };
  }

  private withClause(withNode: unknown, scope: Scope): void {
    if (isAbsent(withNode)) return;
    const recursive = fieldOf(withNode, 'recursive') === true;
    for (const cte of listOf(fieldOf(withNode, 'ctes'))) {
      const name = identifierOf(fieldOf(cte, 'alias'));
      if (name === undefined) {
        this.unchecked('a WITH clause of a shape iquery does not know');
        continue;
      }
      const key = name.text.toLowerCase();
      const columnNames = identifierNames(fieldOf(cte, 'columns'));
      const body = fieldOf(cte, 'this');
      const trace = (): readonly TracedColumn[] => renameRelation(undefined, sameColumns(this.query(body, scope)), columnNames).star;
      if (!recursive) {
        scope.ctes.set(key, trace());
        continue;
      }
      // The body may read the CTE itself: start from an unknown run and trace again with the
      // result until nothing new flows in. Only the last round's violations stand: earlier rounds
      // saw the CTE before its lineage was known.
      let outputs: readonly TracedColumn[] = [unknownColumns(noLineage)];
      let settled = false;
      const checkpoint = this.checkpoint();
      for (let round = 0; round < maxRecursiveRounds && !settled; round += 1) {
        this.rollBack(checkpoint);
        scope.ctes.set(key, outputs);
        const next = trace();
        settled = fingerprint(next) === fingerprint(outputs);
        outputs = next;
      }
      if (!settled) this.unchecked(`the recursive CTE ${name.text}, whose columns did not settle`);
      scope.ctes.set(key, outputs);
    }
  }

  // ---- FROM and joins --------------------------------------------------------------------------

  private fromClause(body: unknown, scope: Scope): void {
    let combined: TracedColumn[] = [];
    for (const item of listOf(fieldOf(fieldOf(body, 'from'), 'expressions'))) combined.push(...this.fromItem(item, scope));
    for (const join of listOf(fieldOf(body, 'joins'))) combined = this.join(join, scope, combined);
    scope.combined = combined;
  }

  /** Adds a FROM item's relations to the scope; returns what `*` yields over it. */
  private fromItem(item: unknown, scope: Scope): TracedColumn[] {
    const node = asTaggedNode(item);
    if (node?.kind === 'joined_table') return this.joinedTable(node.body, scope);
    const relation = this.tableFactor(item, scope);
    scope.relations.push(relation);
    return [...relation.star];
  }

  /** `(a JOIN b USING (id)) AS j`: its tables stay in scope (harmless), and the alias names the whole. */
  private joinedTable(body: unknown, scope: Scope): TracedColumn[] {
    let combined = this.fromItem(fieldOf(body, 'left'), scope);
    for (const join of listOf(fieldOf(body, 'joins'))) combined = this.join(join, scope, combined);
    const alias = identifierOf(fieldOf(body, 'alias'));
    if (alias !== undefined) {
      const relation = renameRelation(alias.text, sameColumns(combined), identifierNames(fieldOf(body, 'column_aliases')));
      scope.relations.push(relation);
      return [...relation.star];
    }
    return combined;
  }

  private tableFactor(item: unknown, scope: Scope): Relation {
    const node = asTaggedNode(item);
    if (node === undefined) {
      const unknown = this.unchecked('a FROM item of a shape iquery does not know');
      return { name: undefined, columns: unknown, star: unknown };
    }
    switch (node.kind) {
      case 'table':
        return this.tableReference(node.body, scope);
      case 'subquery': {
        // The scope is the FROM clause so far, so LATERAL (and DuckDB's implicit lateral) resolves.
        const outputs = this.query(fieldOf(node.body, 'this'), scope);
        this.outputClauses(node.body, outputs, scope, subqueryStructure);
        const alias = identifierOf(fieldOf(node.body, 'alias'))?.text;
        return renameRelation(alias, sameColumns(outputs), identifierNames(fieldOf(node.body, 'column_aliases')));
      }
      case 'alias': {
        const inner = this.tableFactor(fieldOf(node.body, 'this'), scope);
        const alias = identifierOf(fieldOf(node.body, 'alias'))?.text ?? inner.name;
        return renameRelation(alias, inner, identifierNames(fieldOf(node.body, 'column_aliases')));
      }
      case 'joined_table': {
        const combined = this.joinedTable(node.body, scope);
        return { name: undefined, columns: combined, star: combined };
      }
      default:
        return this.tableFunction(node, scope);
    }
  }

  private tableReference(body: unknown, scope: Scope): Relation {
    const name = identifierOf(fieldOf(body, 'name'));
    if (name === undefined) {
      const unknown = this.unchecked('a table reference of a shape iquery does not know');
      return { name: undefined, columns: unknown, star: unknown };
    }
    const qualified = !isAbsent(fieldOf(body, 'schema')) || !isAbsent(fieldOf(body, 'catalog'));
    const cte = qualified ? undefined : findCte(name.text, scope);
    const table = cte === undefined ? this.catalog.table(name.text) : sameColumns(cte);
    const alias = identifierOf(fieldOf(body, 'alias'))?.text ?? name.text;
    return renameRelation(alias, table, identifierNames(fieldOf(body, 'column_aliases')));
  }

  /**
   * A table function (`range(10)`, `unnest(list)`, `generate_series(…)`) or a shape such as PIVOT:
   * its width is unknown; its arguments are judged like any expression, and the tables inside it
   * (a PIVOT's source) pass all their columns on.
   */
  private tableFunction(node: TaggedNode, scope: Scope): Relation {
    const lineages = [this.consume(this.expression({ [node.kind]: node.body }, scope, places.tableFunction), places.tableFunction)];
    for (const inner of taggedNodes(node.body)) {
      if (inner.kind !== 'table') continue;
      const name = identifierOf(fieldOf(inner.body, 'name'));
      if (name !== undefined) lineages.push(lineageOf((findCte(name.text, scope) ?? this.catalog.table(name.text).star)));
    }
    const run = unknownColumns(mergeLineages(lineages));
    return { name: undefined, columns: [run], star: [run] };
  }

  /** Adds a join's right side to the scope, judges its condition; returns the columns `*` yields after it. */
  private join(join: unknown, scope: Scope, left: TracedColumn[]): TracedColumn[] {
    const right = this.fromItem(fieldOf(join, 'this'), scope);
    if (isRecord(join)) {
      for (const [field, value] of Object.entries(join)) {
        if (joinStructure.has(field) || isAbsent(value)) continue;
        const place = field === 'on' ? places.joinOn : places.join;
        this.consume(this.expression(value, scope, place), place);
      }
    }
    const kindValue = fieldOf(join, 'kind');
    const kind = typeof kindValue === 'string' ? kindValue : '';
    const using = identifierNames(fieldOf(join, 'using'));
    let combined: TracedColumn[];
    if (using.length > 0) combined = this.usingJoin(left, right, using, places.joinUsing);
    else if (naturalJoins.has(kind)) combined = this.naturalJoin(left, right);
    else combined = [...left, ...right];
    if (leftOnlyJoins.has(kind)) return left;
    if (concatenatingJoins.has(kind) || naturalJoins.has(kind)) return combined;
    // A join kind whose output columns iquery does not know: their number is unknown.
    return [unknownColumns(lineageOf([...left, ...right]))];
  }

  /**
   * USING compares the named columns of both sides, so restricted ones are violations. The merged
   * column comes first in PostgreSQL and MySQL; DuckDB keeps it where the left side had it.
   */
  private usingJoin(left: readonly TracedColumn[], right: readonly TracedColumn[], names: readonly string[], place: string): TracedColumn[] {
    const isJoinColumn = (column: TracedColumn): boolean => column.name !== undefined && names.some((name) => sameName(name, column.name ?? ''));
    const merged = names.map((name): TracedColumn => {
      const sides = [left, right].map((side) => {
        const matches = side.filter((column) => column.name !== undefined && sameName(column.name, name));
        return matches.length > 0 ? matches : side.filter((column) => column.name === undefined);
      });
      const lineage = lineageOf(sides.flat());
      // Reported here; the merged column keeps its lineage, so a star over it still names it.
      this.consume(lineage, place);
      return { name: sides[0]?.[0]?.name ?? name, lineage };
    });
    const mergedFor = (column: TracedColumn): TracedColumn => merged.find((candidate) => sameName(candidate.name ?? '', column.name ?? '')) ?? column;
    const rightRest = right.filter((column) => !isJoinColumn(column));
    if (this.dialect === 'duckdb') return [...left.map((column) => (isJoinColumn(column) ? mergedFor(column) : column)), ...rightRest];
    return [...merged, ...left.filter((column) => !isJoinColumn(column)), ...rightRest];
  }

  private naturalJoin(left: readonly TracedColumn[], right: readonly TracedColumn[]): TracedColumn[] {
    if ([...left, ...right].some((column) => column.name === undefined)) {
      // Which columns it compares cannot be known: every restricted column on either side may be one.
      this.consume(lineageOf([...left, ...right]), places.naturalJoin);
    }
    const common = left
      .map((column) => column.name)
      .filter((name): name is string => name !== undefined && right.some((column) => column.name !== undefined && sameName(column.name, name)));
    return this.usingJoin(left, right, common, places.naturalJoin);
  }

  // ---- Select list -----------------------------------------------------------------------------

  private selectItem(item: unknown, scope: Scope): TracedColumn[] {
    const node = asTaggedNode(item);
    if (node?.kind === 'star') return this.star(node.body, scope);
    if (node !== undefined && isColumnsCall(node)) return [unknownColumns(lineageOf(scope.combined))];
    const lineage = this.expression(item, scope, places.selectList);
    const alias = node?.kind === 'alias' ? identifierOf(fieldOf(node.body, 'alias')) : undefined;
    const column: TracedColumn = { name: alias === undefined ? this.label(node, scope) : this.aliasName(alias), lineage };
    if (alias !== undefined) scope.aliases.push(column);
    return [column];
  }

  /** `*` or `t.*`, with DuckDB's EXCLUDE, REPLACE and RENAME. */
  private star(body: unknown, scope: Scope): TracedColumn[] {
    const qualifier = identifierOf(fieldOf(body, 'table'));
    let columns: TracedColumn[];
    if (qualifier === undefined) columns = [...scope.combined];
    else {
      const relations = relationsNamed(qualifier.text, scope);
      columns = relations.length > 0
        ? relations.flatMap((relation) => relation.star)
        : [unknownColumns(mergeLineages([lineageOf(scope.combined), unknownRunsIn(scope)]))];
    }
    const excluded = identifierNames(fieldOf(body, 'except'));
    const isExcluded = (column: TracedColumn): boolean => column.name !== undefined && excluded.some((name) => sameName(name, column.name ?? ''));
    columns = columns.filter((column) => !isExcluded(column));
    for (const replacement of listOf(fieldOf(body, 'replace'))) {
      const name = identifierOf(fieldOf(replacement, 'alias'))?.text;
      const lineage = this.expression(fieldOf(replacement, 'this'), scope, places.selectList);
      const index = columns.findIndex((column) => column.name !== undefined && name !== undefined && sameName(column.name, name));
      const target = columns[index];
      if (target !== undefined) columns[index] = { name: target.name, lineage };
      else columns = columns.map((column) => (column.name === undefined ? unknownColumns(mergeLineages([column.lineage, lineage])) : column));
    }
    for (const pair of listOf(fieldOf(body, 'rename'))) {
      const [from, to] = identifierNames(pair);
      if (from === undefined || to === undefined) continue;
      columns = columns.map((column) => (column.name !== undefined && sameName(column.name, from) ? { name: to, lineage: column.lineage } : column));
    }
    const selectable = new Set<string>();
    for (const column of columns) if (column.name !== undefined && column.lineage.restricted.size === 0) selectable.add(column.name);
    const origin: StarOrigin = { text: qualifier === undefined ? '*' : `${qualifier.text}.*`, selectable: [...selectable] };
    return columns.map((column) => ({ name: column.name, lineage: column.lineage, star: origin }));
  }

  // ---- Clauses ---------------------------------------------------------------------------------

  /** A clause uses its values (to filter, group, sort or limit): any restricted value in it is a violation. */
  private clause(field: string, value: unknown, scope: Scope, outputs: readonly TracedColumn[]): void {
    const place = clausePlaces[field] ?? field.replaceAll('_', ' ').toUpperCase();
    if (field === 'group_by') {
      if (fieldOf(value, 'all') === true) this.consume(lineageOf(outputs), place);
      this.terms(value, scope, outputs, place, (term) => term);
      return;
    }
    if (field === 'order_by') {
      this.terms(value, scope, outputs, place, (term) => fieldOf(term, 'this'));
      return;
    }
    this.consume(this.expression(value, scope, place), place);
  }

  /** GROUP BY and ORDER BY terms, which may be ordinals, output names or DuckDB's ALL. */
  private terms(value: unknown, scope: Scope, outputs: readonly TracedColumn[], place: string, termOf: (entry: unknown) => unknown): void {
    if (!isRecord(value)) return;
    for (const [field, part] of Object.entries(value)) {
      if (field !== 'expressions') {
        this.consume(this.expression(part, scope, place), place);
        continue;
      }
      for (const entry of listOf(part)) {
        const term = termOf(entry);
        this.consume(this.term(term, scope, outputs, place), place);
        if (term !== entry && isRecord(entry)) {
          for (const [key, other] of Object.entries(entry)) if (key !== 'this') this.consume(this.expression(other, scope, place), place);
        }
      }
    }
  }

  private term(term: unknown, scope: Scope, outputs: readonly TracedColumn[], place: string): Lineage {
    const node = asTaggedNode(term);
    const ordinal = node === undefined ? undefined : ordinalOf(node);
    if (ordinal !== undefined) {
      const output = outputAt(outputs, ordinal);
      return output === undefined ? lineageOf(outputs) : output.lineage;
    }
    if (this.dialect === 'duckdb' && node?.kind === 'column' && fieldOf(node.body, 'table') === null) {
      const name = identifierOf(fieldOf(node.body, 'name'));
      if (name !== undefined && !name.quoted && sameName(name.text, 'all')) return lineageOf(outputs);
      // `ORDER BY #2` names a select item; take the FROM column of that position too.
      const position = name === undefined ? undefined : this.positionalReference(name);
      if (position !== undefined) {
        const output = outputAt(outputs, position);
        return mergeLineages([output === undefined ? lineageOf(outputs) : output.lineage, this.expression(term, scope, place)]);
      }
    }
    return this.expression(term, scope, place);
  }

  // ---- Expressions -----------------------------------------------------------------------------

  /** The lineage of a value; restricted lineage is left in it only where the value is passed on unchanged. */
  private expression(value: unknown, scope: Scope, place: string): Lineage {
    if (Array.isArray(value)) return mergeLineages(value.map((part) => this.expression(part, scope, place)));
    if (!isRecord(value)) return noLineage;
    const node = asTaggedNode(value);
    return node === undefined || wrapperFields.has(node.kind) ? this.parts(value, scope, place) : this.node(node, scope, place);
  }

  /** Everything under the fields of a node body or of a record that is not an expression (an ORDER BY item, a window). */
  private parts(record: unknown, scope: Scope, place: string): Lineage {
    if (!isRecord(record)) return this.expression(record, scope, place);
    const lineages: Lineage[] = [];
    for (const [field, value] of Object.entries(record)) {
      if (!ignoredFields.has(field)) lineages.push(this.expression(value, scope, place));
    }
    return mergeLineages(lineages);
  }

  private node(node: TaggedNode, scope: Scope, place: string): Lineage {
    switch (node.kind) {
      case 'column':
        return this.columnReference(node.body, scope).lineage;
      case 'dot':
        return this.fieldReference(node.body, scope, place);
      case 'identifier': {
        // Not a column reference in any shape seen, but a bare name could be one: resolve it as one.
        const name = identifierOf(node.body);
        return name === undefined ? noLineage : this.resolveUnqualified(name.text, scope).lineage;
      }
      case 'star':
        return lineageOf(this.star(node.body, scope));
      case 'alias':
      case 'paren':
        return this.expression(fieldOf(node.body, 'this'), scope, place);
      case 'count':
        return this.count(node.body, scope, place);
      case 'is_null':
        return this.nullTest(node.body, scope, place);
      case 'exists':
        // Only whether a row exists comes out; what the subquery selects stays inside.
        this.query(fieldOf(node.body, 'this'), scope);
        return noLineage;
      case 'select':
      case 'union':
      case 'intersect':
      case 'except':
      case 'values':
      case 'subquery':
        return lineageOf(this.query({ [node.kind]: node.body }, scope));
      default:
        if (isColumnsCall(node)) return lineageOf(scope.combined);
        return this.consume(this.parts(node.body, scope, place), place);
    }
  }

  /** COUNT consumes what it counts: only a count comes out. A restricted column must be its plain argument. */
  private count(body: unknown, scope: Scope, place: string): Lineage {
    if (!isRecord(body)) return noLineage;
    for (const [field, value] of Object.entries(body)) {
      if (field !== 'this' && !ignoredFields.has(field)) this.consume(this.expression(value, scope, place), place);
    }
    const argument = body['this'];
    const columns = plainColumns(argument);
    if (columns === undefined) this.consume(this.expression(argument, scope, places.countedExpression), places.countedExpression);
    else for (const column of columns) this.expression(column, scope, place);
    return noLineage;
  }

  /** `column IS [NOT] NULL` reveals only whether a value is there. */
  private nullTest(body: unknown, scope: Scope, place: string): Lineage {
    const argument = fieldOf(body, 'this');
    const columns = plainColumns(argument);
    if (columns === undefined) return this.consume(this.expression(argument, scope, place), place);
    for (const column of columns) this.expression(column, scope, place);
    return noLineage;
  }

  /** `a.b.c`: a schema-qualified column (`schema.table.column`) or a field of a struct column; both are taken. */
  private fieldReference(body: unknown, scope: Scope, place: string): Lineage {
    const inner = fieldOf(body, 'this');
    const field = identifierOf(fieldOf(body, 'field'));
    const innerLineage = this.expression(inner, scope, place);
    const table = lastNamePart(inner);
    if (field === undefined || table === undefined) return innerLineage;
    return mergeLineages([innerLineage, this.resolve(table, field.text, scope).lineage]);
  }

  // ---- Names -----------------------------------------------------------------------------------

  private columnReference(body: unknown, scope: Scope): Resolution {
    const name = identifierOf(fieldOf(body, 'name'));
    if (name === undefined) return { lineage: mergeLineages([lineageOf(scope.combined), unknownRunsIn(scope)]), name: undefined };
    const qualifier = identifierOf(fieldOf(body, 'table'))?.text;
    const position = qualifier === undefined ? this.positionalReference(name) : undefined;
    if (position !== undefined) {
      const column = outputAt(scope.combined, position);
      return column === undefined ? { lineage: lineageOf(scope.combined), name: undefined } : { lineage: column.lineage, name: column.name };
    }
    return this.resolve(qualifier, name.text, scope);
  }

  /** DuckDB's `#3`: the third column of the FROM clause. The parser reads it as a column named `#3`. */
  private positionalReference(name: Identifier): number | undefined {
    if (this.dialect !== 'duckdb' || name.quoted || !name.text.startsWith('#')) return undefined;
    const digits = name.text.slice(1);
    if (digits.length === 0 || [...digits].some((character) => character < '0' || character > '9')) return undefined;
    const position = Number(digits);
    return position >= 1 ? position : undefined;
  }

  private resolve(qualifier: string | undefined, name: string, scope: Scope): Resolution {
    return qualifier === undefined ? this.resolveUnqualified(name, scope) : this.resolveQualified(qualifier, name, scope);
  }

  private resolveQualified(qualifier: string, name: string, scope: Scope): Resolution {
    const relations = relationsNamed(qualifier, scope);
    if (relations.length > 0) {
      const found = relations.flatMap((relation) => relation.columns.filter((column) => column.name !== undefined && sameName(column.name, name)));
      if (found.length > 0) return { lineage: lineageOf(found), name: found[0]?.name };
      const unknown = relations.flatMap((relation) => relation.columns.filter((column) => column.name === undefined));
      return { lineage: mergeLineages([lineageOf(unknown), this.catalog.columnsNamed(name)]), name: undefined };
    }
    // No relation answers to the qualifier: it may be a struct column (`s.field`) or a name the
    // database will reject. Take everything it could be.
    return {
      lineage: mergeLineages([this.catalog.columnsNamed(name), this.resolveUnqualified(qualifier, scope).lineage, unknownRunsIn(scope)]),
      name: undefined,
    };
  }

  private resolveUnqualified(name: string, scope: Scope): Resolution {
    const unknown: Lineage[] = [];
    for (let current: Scope | undefined = scope; current !== undefined; current = current.parent) {
      const found: TracedColumn[] = [];
      for (const relation of current.relations) {
        for (const column of relation.columns) {
          if (column.name === undefined) unknown.push(column.lineage);
          else if (sameName(column.name, name)) found.push(column);
        }
        // A whole-row reference (`SELECT u FROM users u`, `row_to_json(u)`) carries every column.
        if (relation.name !== undefined && sameName(relation.name, name)) found.push({ name: relation.name, lineage: lineageOf(relation.star) });
      }
      for (const alias of current.aliases) if (alias.name !== undefined && sameName(alias.name, name)) found.push(alias);
      if (found.length > 0) return { lineage: mergeLineages([lineageOf(found), ...unknown]), name: found[0]?.name };
    }
    return { lineage: mergeLineages([...unknown, this.catalog.columnsNamed(name)]), name: undefined };
  }

  /** The name a database gives an unaliased select item. Exact for columns; an approximation for expressions. */
  private label(node: TaggedNode | undefined, scope: Scope): string {
    if (node === undefined) return '?column?';
    switch (node.kind) {
      case 'column': {
        const name = identifierOf(fieldOf(node.body, 'name'));
        if (name === undefined) return '?column?';
        if (this.dialect === 'mysql') return name.text;
        if (this.dialect === 'postgres') return name.quoted ? name.text : name.text.toLowerCase();
        return this.columnReference(node.body, scope).name ?? name.text;
      }
      case 'dot': {
        const field = identifierOf(fieldOf(node.body, 'field'));
        return field === undefined ? '?column?' : this.aliasName(field);
      }
      case 'paren':
      case 'cast':
      case 'window_function':
        return this.label(asTaggedNode(fieldOf(node.body, 'this')), scope);
      case 'case':
        return 'case';
      default: {
        const name = fieldOf(node.body, 'name') ?? fieldOf(node.body, 'original_name');
        return typeof name === 'string' ? name.toLowerCase() : '?column?';
      }
    }
  }

  /** PostgreSQL folds unquoted names to lower case; DuckDB and MySQL keep them as written. */
  private aliasName(identifier: Identifier): string {
    return this.dialect === 'postgres' && !identifier.quoted ? identifier.text.toLowerCase() : identifier.text;
  }

  private valuesColumnName(index: number): string {
    if (this.dialect === 'duckdb') return `col${index}`;
    if (this.dialect === 'postgres') return `column${index + 1}`;
    return `column_${index}`;
  }

  // ---- Reporting -------------------------------------------------------------------------------

  /** Reports every restricted column in the lineage as used at `place`; returns what is left. */
  private consume(lineage: Lineage, place: string): Lineage {
    for (const column of lineage.restricted) this.report({ kind: 'used', column, place });
    return withoutRestricted(lineage);
  }

  private unchecked(why: string): readonly TracedColumn[] {
    this.report({ kind: 'unchecked', why });
    return [unknownColumns(noLineage)];
  }

  private checkpoint(): number {
    return this.violations.length;
  }

  /** Forgets the violations reported since the checkpoint. */
  private rollBack(checkpoint: number): void {
    for (const violation of this.violations.splice(checkpoint)) this.reported.delete(violationKey(violation));
  }

  private report(violation: Violation): void {
    const key = violationKey(violation);
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.violations.push(violation);
  }
}

function violationKey(violation: Violation): string {
  return violation.kind === 'used' ? `used\u0000${violation.column}\u0000${violation.place}` : `unchecked\u0000${violation.why}`;
}

// ---- Helpers on the tree -------------------------------------------------------------------------

function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Fields left empty by the parser. */
function isAbsent(value: unknown): boolean {
  return value === null || value === undefined || value === false || (Array.isArray(value) && value.length === 0);
}

/** A columns list of a derived table or CTE: the same list serves name lookup and stars. */
function sameColumns(columns: readonly TracedColumn[]): BaseTable {
  return { columns, star: columns };
}

/**
 * Renames the columns of a relation by position (`AS x(a, b)`, `WITH c(a, b) AS …`). Positions after
 * an unknown run cannot be lined up, so leftover names resolve to everything the relation carries.
 */
function renameRelation(name: string | undefined, table: BaseTable, aliases: readonly string[]): Relation {
  if (aliases.length === 0) return { name, columns: table.columns, star: table.star };
  const star: TracedColumn[] = [];
  let next = 0;
  let linedUp = true;
  for (const column of table.star) {
    if (column.name === undefined) linedUp = false;
    const alias = linedUp ? aliases[next] : undefined;
    if (alias === undefined) star.push(column);
    else {
      star.push({ name: alias, lineage: column.lineage });
      next += 1;
    }
  }
  const everything = lineageOf(table.star);
  const leftover = aliases.slice(next).map((alias): TracedColumn => ({ name: alias, lineage: everything }));
  const columns = table.columns === table.star ? [...star, ...leftover] : [...table.columns, ...leftover];
  return { name, columns, star };
}

function findCte(name: string, scope: Scope): readonly TracedColumn[] | undefined {
  const key = name.toLowerCase();
  for (let current: Scope | undefined = scope; current !== undefined; current = current.parent) {
    const cte = current.ctes.get(key);
    if (cte !== undefined) return cte;
  }
  return undefined;
}

/** The relations called `name` in the nearest scope that has any. */
function relationsNamed(name: string, scope: Scope): Relation[] {
  for (let current: Scope | undefined = scope; current !== undefined; current = current.parent) {
    const relations = current.relations.filter((relation) => relation.name !== undefined && sameName(relation.name, name));
    if (relations.length > 0) return relations;
  }
  return [];
}

/** Everything the unknown runs in scope may carry. */
function unknownRunsIn(scope: Scope): Lineage {
  const lineages: Lineage[] = [];
  for (let current: Scope | undefined = scope; current !== undefined; current = current.parent) {
    for (const relation of current.relations) {
      for (const column of relation.columns) if (column.name === undefined) lineages.push(column.lineage);
    }
  }
  return mergeLineages(lineages);
}

/** DuckDB's `COLUMNS(…)`: an unknown selection of the FROM clause's columns. */
function isColumnsCall(node: TaggedNode): boolean {
  if (node.kind === 'columns') return true;
  const name = fieldOf(node.body, 'name');
  return node.kind === 'function' && typeof name === 'string' && sameName(name, 'columns');
}

/**
 * The column references an argument consists of, when it is nothing else: a column (parentheses
 * allowed), `schema.table.column`, or a tuple of such (`COUNT(DISTINCT a, b)`).
 */
function plainColumns(argument: unknown): unknown[] | undefined {
  const node = asTaggedNode(argument);
  if (node === undefined) return undefined;
  if (node.kind === 'paren') return plainColumns(fieldOf(node.body, 'this'));
  if (node.kind === 'column') return [argument];
  if (node.kind === 'dot') return plainColumns(fieldOf(node.body, 'this')) === undefined ? undefined : [argument];
  if (node.kind === 'tuple') {
    const columns: unknown[] = [];
    for (const element of listOf(fieldOf(node.body, 'expressions'))) {
      const inner = plainColumns(element);
      if (inner === undefined) return undefined;
      columns.push(...inner);
    }
    return columns.length > 0 ? columns : undefined;
  }
  return undefined;
}

/** The last name in a column or dotted reference: `t` in `s.t`, `c` in `s.t.c`. */
function lastNamePart(value: unknown): string | undefined {
  const node = asTaggedNode(value);
  if (node?.kind === 'column') return identifierOf(fieldOf(node.body, 'name'))?.text;
  if (node?.kind === 'dot') return identifierOf(fieldOf(node.body, 'field'))?.text;
  return undefined;
}

/** A positive integer literal in GROUP BY or ORDER BY, which names a select item by position (1-based). */
function ordinalOf(node: TaggedNode): number | undefined {
  if (node.kind !== 'literal' || fieldOf(node.body, 'literal_type') !== 'number') return undefined;
  const value = fieldOf(node.body, 'value');
  if (typeof value !== 'string') return undefined;
  const number = Number(value);
  return Number.isInteger(number) && number >= 1 ? number : undefined;
}

/** The output at a 1-based position, or undefined when an unknown run comes first (or it is past the end). */
function outputAt(outputs: readonly TracedColumn[], position: number): TracedColumn | undefined {
  for (let index = 0; index < outputs.length; index += 1) {
    const output = outputs[index];
    if (output === undefined || output.name === undefined) return undefined;
    if (index === position - 1) return output;
  }
  return undefined;
}

/** The cells of a VALUES row: `(1, 2)`, a tuple, or MySQL's `ROW(1, 2)`. */
function rowCells(row: unknown): readonly unknown[] {
  const node = asTaggedNode(row);
  let cells: readonly unknown[] = [row];
  if (node?.kind === 'tuple') cells = listOf(fieldOf(node.body, 'expressions'));
  else if (Array.isArray(fieldOf(row, 'expressions'))) cells = listOf(fieldOf(row, 'expressions'));
  const only = cells.length === 1 ? asTaggedNode(cells[0]) : undefined;
  if (only?.kind === 'function' && typeof fieldOf(only.body, 'name') === 'string' && sameName(String(fieldOf(only.body, 'name')), 'row')) {
    return listOf(fieldOf(only.body, 'args'));
  }
  return cells;
}

/** A comparable summary of traced columns, to tell when a recursive CTE has settled. */
function fingerprint(columns: readonly TracedColumn[]): string {
  const summary = columns.map((column) => [column.name ?? null, [...column.lineage.restricted].sort(), [...column.lineage.confidential].sort()]);
  return JSON.stringify(summary);
}
