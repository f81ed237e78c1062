/**
 * Whether a query returns aggregates rather than rows: what the privacy setting that sends no data
 * values lets the user share with the model. Judged on polyglot's parse tree: every output column
 * must be an aggregate (or arithmetic over aggregates and constants) or a grouping key, and the query
 * must aggregate. Window functions, subqueries in the select list and aggregates that hand back the
 * raw values (STRING_AGG, ARRAY_AGG, FIRST…) do not count. Anything unreadable is not an aggregate.
 */
import { parseStatements } from '../guard/parser.js';
import { asTaggedNode, fieldOf, isRecord, type TaggedNode } from '../guard/walk.js';
import type { SqlDialect } from '../sources/source.js';

/** Aggregates whose result is made of the input values themselves, so they are rows in disguise. */
const valueListingAggregates = new Set([
  'string_agg', 'group_concat', 'array_agg', 'list', 'listagg', 'first', 'last', 'any_value', 'arbitrary', 'arg_max', 'arg_min',
  'argmax', 'argmin', 'max_by', 'min_by', 'json_agg', 'jsonb_agg', 'json_group_array', 'json_group_object', 'json_arrayagg', 'json_objectagg', 'histogram', 'list_agg',
]);

const setOperations = new Set(['union', 'intersect', 'except']);

/** Tagged nodes directly under a body (not their descendants). */
function childNodes(body: unknown): TaggedNode[] {
  const found: TaggedNode[] = [];
  const pending: unknown[] = [body];
  while (pending.length > 0) {
    const value = pending.pop();
    if (Array.isArray(value)) {
      pending.push(...value);
      continue;
    }
    if (!isRecord(value)) continue;
    for (const field of Object.values(value)) {
      const node = asTaggedNode(field);
      if (node !== undefined && isRecord(node.body)) found.push(node);
      else if (Array.isArray(field)) {
        for (const item of field) {
          const child = asTaggedNode(item);
          if (child !== undefined && isRecord(child.body)) found.push(child);
          else pending.push(item);
        }
      } else if (isRecord(field)) pending.push(field);
    }
  }
  return found;
}

/** An aggregate call: polyglot gives every aggregate a `filter` field (the FILTER clause). */
function isAggregate(node: TaggedNode): boolean {
  if (!isRecord(node.body) || !('filter' in node.body)) return false;
  const name = String(fieldOf(node.body, 'name') ?? node.kind).toLowerCase();
  return !valueListingAggregates.has(name) && !valueListingAggregates.has(node.kind);
}

/** The expression as text without positions, to compare a select item with a grouping key. */
function shape(node: unknown): string {
  return JSON.stringify(node, (key, value: unknown) => (key === 'span' || key === 'trailing_comments' || key === 'quoted' ? undefined : value));
}

function containsAggregate(node: TaggedNode): boolean {
  if (node.kind === 'window_function') return false;
  if (isAggregate(node)) return true;
  return childNodes(node.body).some(containsAggregate);
}

function selectAggregates(select: Record<string, unknown>): boolean {
  const items = (fieldOf(select, 'expressions') as unknown[] | undefined) ?? [];
  const groupBy = fieldOf(fieldOf(select, 'group_by'), 'expressions') as unknown[] | undefined;
  const keys = new Set((groupBy ?? []).map(shape));
  const aliases = new Set<string>();
  const unwrapped = items.map((item) => {
    const node = asTaggedNode(item);
    if (node?.kind !== 'alias') return item;
    return fieldOf(node.body, 'this');
  });
  // GROUP BY 2 or GROUP BY alias makes that select item a key.
  for (const key of groupBy ?? []) {
    const node = asTaggedNode(key);
    if (node?.kind === 'literal' && fieldOf(node.body, 'literal_type') === 'number') {
      const position = Number(fieldOf(node.body, 'value'));
      const target = unwrapped[position - 1];
      if (target !== undefined) keys.add(shape(target));
    }
    if (node?.kind === 'column' && fieldOf(node.body, 'table') === null) aliases.add(String(fieldOf(fieldOf(node.body, 'name'), 'name')).toLowerCase());
  }
  items.forEach((item) => {
    const node = asTaggedNode(item);
    if (node?.kind === 'alias' && aliases.has(String(fieldOf(fieldOf(node.body, 'alias'), 'name')).toLowerCase())) keys.add(shape(fieldOf(node.body, 'this')));
  });
  const covered = (node: TaggedNode): boolean => {
    if (keys.has(shape({ [node.kind]: node.body }))) return true;
    if (node.kind === 'window_function' || node.kind === 'star' || node.kind === 'select' || node.kind === 'subquery') return false;
    if (isAggregate(node)) return true;
    if (node.kind === 'column') return false;
    if (isRecord(node.body) && 'filter' in node.body) return false;
    return childNodes(node.body).every(covered);
  };
  const nodes = unwrapped.map(asTaggedNode);
  if (nodes.some((node) => node === undefined)) return false;
  const aggregates = (groupBy !== undefined && groupBy.length > 0) || nodes.some((node) => node !== undefined && containsAggregate(node));
  return aggregates && nodes.every((node) => node !== undefined && covered(node));
}

function statementAggregates(node: TaggedNode | undefined): boolean {
  if (node === undefined) return false;
  if (node.kind === 'select' && isRecord(node.body)) return selectAggregates(node.body);
  if (setOperations.has(node.kind)) return statementAggregates(asTaggedNode(fieldOf(node.body, 'left'))) && statementAggregates(asTaggedNode(fieldOf(node.body, 'right')));
  if (node.kind === 'subquery' || node.kind === 'paren') return statementAggregates(asTaggedNode(fieldOf(node.body, 'this')));
  return false;
}

/** True when every row of the query's result is an aggregate over groups, not a row of the data. */
export function isAggregateQuery(sql: string, dialect: SqlDialect): boolean {
  const parsed = parseStatements(sql, dialect);
  if (!parsed.ok || parsed.statements.length !== 1) return false;
  return statementAggregates(asTaggedNode(parsed.statements[0]));
}
