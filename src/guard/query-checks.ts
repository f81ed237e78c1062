/**
 * The checks on a statement that is a query at the top: a walk over the whole tree for statements
 * hidden inside it, SELECT … INTO, row locks, denied functions and tables, then a token-level net for
 * calls the tree might spell in a shape the walk does not know.
 */
import type { SqlDialect } from '../sources/source.js';
import type { SqlToken } from './parser.js';
import { hints, readOnlyReason } from './refusal.js';
import type { Refusal } from './refusal.js';
import {
  allowedStatementKinds,
  dangerousNodeKinds,
  dataFileExtensions,
  deniedFunctions,
  deniedTables,
  nestedStatementKindPrefixes,
  nestedStatementKinds,
  pathCharacters,
} from './rules.js';
import { nestedStatementName } from './statement-name.js';
import { asTaggedNode, fieldOf, taggedNodes } from './walk.js';
import type { TaggedNode } from './walk.js';

export interface QueryContext {
  readonly dialect: SqlDialect;
  readonly tokens: readonly SqlToken[];
  /** The name of the statement being judged, e.g. 'SELECT'. */
  readonly kind: string;
}

/**
 * The first reason to refuse a statement whose outer kind is already known to be a query: anything
 * found in the tree (in document order), then anything the call-token net catches.
 */
export function findQueryRefusal(statement: unknown, context: QueryContext): Refusal | undefined {
  return findTreeRefusal(statement, context) ?? findCallTokenRefusal(context);
}

/** True for the kinds that may run: select, union, intersect, except, values. */
export function isQueryKind(kind: string): boolean {
  return (allowedStatementKinds as readonly string[]).includes(kind);
}

function findTreeRefusal(statement: unknown, context: QueryContext): Refusal | undefined {
  for (const node of taggedNodes(statement)) {
    const refusal = nestedStatementRefusal(node)
      ?? queryClauseRefusal(node)
      ?? dangerousKindRefusal(node, context)
      ?? functionRefusal(node, context)
      ?? tableRefusal(node, context);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

function nestedStatementRefusal(node: TaggedNode): Refusal | undefined {
  const isStatement = (nestedStatementKinds as readonly string[]).includes(node.kind)
    || nestedStatementKindPrefixes.some((prefix) => node.kind.startsWith(prefix));
  if (!isStatement) return undefined;
  const name = nestedStatementName(node.kind);
  return {
    kind: name,
    reason: `it runs ${name} inside the query (for example in a WITH clause); ${readOnlyReason}`,
    hint: hints.readOnly,
  };
}

/** SELECT … INTO and row locks, on every query node of the tree, not only the outermost. */
function queryClauseRefusal(node: TaggedNode): Refusal | undefined {
  if (!isQueryKind(node.kind)) return undefined;
  const into = fieldOf(node.body, 'into');
  if (into !== undefined && into !== null) {
    return {
      kind: 'SELECT INTO',
      reason: 'SELECT … INTO stores the result in a new table or in variables instead of returning it; iquery only runs read-only queries.',
      hint: hints.into,
    };
  }
  const locks = fieldOf(node.body, 'locks');
  if (!Array.isArray(locks) || locks.length === 0) return undefined;
  const forUpdate = locks.some((lock) => {
    const update = fieldOf(lock, 'update');
    return update !== null && update !== undefined;
  });
  return {
    kind: forUpdate ? 'SELECT FOR UPDATE' : 'SELECT FOR SHARE',
    reason: 'it locks the rows it reads (FOR UPDATE, FOR SHARE or LOCK IN SHARE MODE), which blocks other sessions; iquery only runs plain read-only queries.',
    hint: hints.locks,
  };
}

function dangerousKindRefusal(node: TaggedNode, context: QueryContext): Refusal | undefined {
  const why = dangerousNodeKinds[node.kind];
  if (why === undefined) return undefined;
  return { kind: context.kind, reason: `it uses ${nestedStatementName(node.kind)}, which ${why}.`, hint: hints.outside };
}

function functionRefusal(node: TaggedNode, context: QueryContext): Refusal | undefined {
  const name = calledFunctionName(node);
  if (name === undefined) return undefined;
  const why = deniedFunctionReason(name, context.dialect);
  if (why === undefined) return undefined;
  return { kind: context.kind, reason: `it calls ${name}(), which ${why}.`, hint: hints.outside };
}

/**
 * The name a node calls, qualified as written. polyglot has several shapes: `function` and
 * `aggregate_function` carry `name`; `pg_catalog.pg_read_file(…)` is a `method_call`; calls it does
 * not know may be `anonymous` with the name in `this`. Any other node with a string `name` is
 * treated as a call too, erring towards refusal.
 */
function calledFunctionName(node: TaggedNode): string | undefined {
  if (node.kind === 'method_call') {
    const method = identifierText(fieldOf(node.body, 'method'));
    if (method === undefined) return undefined;
    const receiver = expressionName(fieldOf(node.body, 'this'));
    return receiver === undefined ? method : `${receiver}.${method}`;
  }
  if (node.kind === 'anonymous' || node.kind === 'anonymous_agg_func' || node.kind === 'user_defined_function') {
    return expressionName(fieldOf(node.body, 'this'));
  }
  const name = fieldOf(node.body, 'name');
  return typeof name === 'string' ? name : undefined;
}

/** The dotted name an expression spells (an identifier, a column, a string), if any. */
function expressionName(expression: unknown): string | undefined {
  if (typeof expression === 'string') return expression;
  const node = asTaggedNode(expression);
  if (node === undefined) return undefined;
  if (node.kind === 'identifier') return identifierText(node.body);
  if (node.kind === 'column' || node.kind === 'table') {
    const name = identifierText(fieldOf(node.body, 'name'));
    const qualifier = identifierText(fieldOf(node.body, 'table')) ?? identifierText(fieldOf(node.body, 'schema'));
    return qualifier === undefined || name === undefined ? name : `${qualifier}.${name}`;
  }
  const name = fieldOf(node.body, 'name');
  return typeof name === 'string' ? name : undefined;
}

/** The text of an `Identifier` (`{name, quoted, span}`), or a plain string. */
function identifierText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const name = fieldOf(value, 'name');
  return typeof name === 'string' ? name : undefined;
}

/** Why a function may not be called, or undefined. Every dotted part of the name is checked. */
function deniedFunctionReason(name: string, dialect: SqlDialect): string | undefined {
  for (const part of name.toLowerCase().split('.')) {
    for (const rule of deniedFunctions[dialect]) {
      const matches = (rule.names ?? []).includes(part)
        || (rule.prefixes ?? []).some((prefix) => part.startsWith(prefix))
        || (rule.suffixes ?? []).some((suffix) => part.endsWith(suffix));
      if (matches) return rule.why;
    }
  }
  return undefined;
}

function tableRefusal(node: TaggedNode, context: QueryContext): Refusal | undefined {
  if (node.kind !== 'table') return undefined;
  const nameIdentifier = fieldOf(node.body, 'name');
  const name = identifierText(nameIdentifier);
  if (name === undefined) return undefined;
  const parts = [fieldOf(node.body, 'catalog'), fieldOf(node.body, 'schema')]
    .map(identifierText)
    .filter((part): part is string => part !== undefined);
  const qualified = [...parts, name].join('.');
  for (const rule of deniedTables[context.dialect]) {
    const matches = (rule.names ?? []).includes(name.toLowerCase())
      || parts.some((part) => (rule.schemas ?? []).includes(part.toLowerCase()));
    if (matches) return { kind: context.kind, reason: `it reads ${qualified}, which ${rule.why}.`, hint: hints.outside };
  }
  if (context.dialect !== 'duckdb') return undefined;
  if (isStringLiteralName(nameIdentifier, context.tokens) || looksLikeFile(qualified)) {
    return {
      kind: context.kind,
      reason: `DuckDB would read '${qualified}' as a file or URL rather than a table.`,
      hint: hints.file,
    };
  }
  return undefined;
}

/**
 * DuckDB reads `FROM '/etc/passwd'` as a file. polyglot marks it `quoted`, exactly like the name
 * `"orders"`; only the token at the name's position tells a string from a quoted identifier.
 */
function isStringLiteralName(identifier: unknown, tokens: readonly SqlToken[]): boolean {
  const start = fieldOf(fieldOf(identifier, 'span'), 'start');
  if (typeof start !== 'number') return false;
  const token = tokens.find((candidate) => candidate.start === start);
  return token !== undefined && token.type.includes('STRING');
}

/** A table name DuckDB would resolve to a file, a URL or a glob when no such table exists. */
function looksLikeFile(qualifiedName: string): boolean {
  const name = qualifiedName.toLowerCase();
  if (pathCharacters.some((character) => name.includes(character))) return true;
  const parts = name.split('.');
  return parts.length > 1 && (dataFileExtensions as readonly string[]).includes(parts[parts.length - 1] ?? '');
}

/**
 * A second net under the tree walk: any word directly followed by `(` is a call (or a column list,
 * which errs towards refusal), so a denied function is caught even in a tree shape the walk does
 * not know. The DuckDB GLOB operator (`x GLOB ('a*')`) is skipped: the table function `glob()` is a
 * `function` node, refused by the walk. PostgreSQL also calls `f(x)` for `(x).f` ("attribute
 * notation": `SELECT ('PG_VERSION'::text).pg_read_file` reads a file), so there any word after a dot
 * is checked too.
 */
function findCallTokenRefusal(context: QueryContext): Refusal | undefined {
  const { tokens } = context;
  for (const [index, token] of tokens.entries()) {
    if (token.type === 'GLOB' || token.type.includes('STRING')) continue;
    const isCall = tokens[index + 1]?.type === 'L_PAREN';
    const isAttributeCall = context.dialect === 'postgres' && tokens[index - 1]?.type === 'DOT';
    if (!isCall && !isAttributeCall) continue;
    const why = deniedFunctionReason(token.text, context.dialect);
    if (why !== undefined) return { kind: context.kind, reason: `it calls ${token.text}(), which ${why}.`, hint: hints.outside };
  }
  return undefined;
}
