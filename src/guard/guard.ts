/**
 * The SQL guard: only one read-only query reaches a database. It parses the text with a real SQL
 * parser (polyglot), refuses anything but SELECT, WITH … SELECT, VALUES and set operations of these,
 * then walks the whole tree for statements hidden inside the query, row locks, SELECT … INTO, and
 * calls or tables that reach files, other servers, server administration or credentials. Text the
 * parser cannot read is refused, never waved through. The read-only database session behind it is the
 * second wall; this one exists so that a hostile statement fails with a clear reason before it runs.
 */
import { IqueryError } from '../errors.js';
import type { SqlDialect } from '../sources/source.js';
import { findLexicalHazard } from './lexical-hazard.js';
import { parseStatements, tokenizeSql } from './parser.js';
import type { SqlToken } from './parser.js';
import { findQueryRefusal, isQueryKind } from './query-checks.js';
import { hints, readOnlyReason } from './refusal.js';
import type { Refusal } from './refusal.js';
import { wrapperKinds } from './rules.js';
import { intoFileClause, leadingKeywords, nestedStatementName, statementName } from './statement-name.js';
import { asTaggedNode, fieldOf } from './walk.js';
import type { TaggedNode } from './walk.js';

export interface GuardVerdict {
  allowed: boolean;
  /** statement kind, e.g. 'SELECT', 'DELETE', 'SET', 'COPY', 'MULTIPLE', 'UNPARSEABLE' */
  kind: string;
  /** why refused, for a person; absent when allowed */
  reason?: string;
}

/**
 * Largest SQL text the guard reads, in UTF-8 bytes (256 KiB); longer text is refused as TOO_LARGE.
 * Parsing is synchronous and grows faster than linearly (about 2 s for 300 KB of select list with
 * polyglot 0.12), so the limit also bounds how long one hostile statement can block the process.
 */
export const maxSqlBytes = 256 * 1024;

/**
 * Judges one SQL text for `dialect`. Never throws: empty text is refused as EMPTY, text over
 * `maxSqlBytes` as TOO_LARGE, text the parser cannot read as UNPARSEABLE, several statements as
 * MULTIPLE; otherwise `kind` names the statement ('SELECT', 'UNION', 'VALUES', 'DELETE', …).
 */
export function inspectSql(sql: string, dialect: SqlDialect): GuardVerdict {
  const judgement = judgeSafely(sql, dialect);
  if (judgement.allowed) return { allowed: true, kind: judgement.kind };
  return { allowed: false, kind: judgement.kind, reason: judgement.reason };
}

/**
 * Throws IqueryError('sql_refused', message) when refused. The message names the statement kind and
 * why, e.g. "Refused DELETE statement: iquery only runs read-only queries (SELECT, WITH … SELECT,
 * VALUES)." with a `hint` saying what to do instead; `details` carries `kind` and `dialect`.
 */
export function assertReadOnlySql(sql: string, dialect: SqlDialect): void {
  const judgement = judgeSafely(sql, dialect);
  if (judgement.allowed) return;
  throw new IqueryError('sql_refused', `Refused ${judgement.kind} statement: ${judgement.reason}`, {
    hint: judgement.hint,
    details: { kind: judgement.kind, dialect },
  });
}

type Judgement = ({ readonly allowed: true; readonly kind: string }) | ({ readonly allowed: false } & Refusal);

function refuse(kind: string, reason: string, hint: string): Judgement {
  return { allowed: false, kind, reason, hint };
}

/** A bug in the guard must refuse, not allow: any exception becomes an UNPARSEABLE refusal. */
function judgeSafely(sql: string, dialect: SqlDialect): Judgement {
  try {
    return judge(sql, dialect);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return refuse('UNPARSEABLE', `the guard failed while checking it (${message}), so it is refused.`, hints.unparseable);
  }
}

function judge(sql: string, dialect: SqlDialect): Judgement {
  if (typeof sql !== 'string') return refuse('EMPTY', 'no SQL text was given.', hints.empty);
  if (Buffer.byteLength(sql, 'utf8') > maxSqlBytes) {
    return refuse('TOO_LARGE', `the SQL text is longer than ${maxSqlBytes} bytes.`, hints.tooLarge);
  }
  const tokenized = tokenizeSql(sql, dialect);
  if (!tokenized.ok) return unparseable(tokenized.error, []);
  const tokens = tokenized.tokens;
  if (tokens.length === 0) return refuse('EMPTY', 'there is no statement, only whitespace or comments.', hints.empty);
  const parsed = parseStatements(sql, dialect);
  if (!parsed.ok) return unparseable(parsed.error, tokens);
  const statements = parsed.statements;
  const statement = statements[0];
  if (statement === undefined) return refuse('EMPTY', 'there is no statement, only whitespace or comments.', hints.empty);
  if (statements.length > 1) {
    const names = namesOfStatements(statements, tokens).join(', ');
    return refuse('MULTIPLE', `it contains ${statements.length} statements (${names}); iquery runs exactly one query at a time.`, hints.multiple);
  }
  const top = asTaggedNode(statement);
  if (top === undefined) return unparseable('the parser returned an unexpected tree', tokens);
  const query = unwrapParentheses(top);
  const kind = statementName(query.kind, tokens);
  if (!isQueryKind(query.kind)) return refuse(kind, readOnlyReason, hints.readOnly);
  const lexicalHazard = findLexicalHazard(Array.from(sql), tokens, dialect);
  if (lexicalHazard !== undefined) return refuse(kind, `${lexicalHazard}.`, hints.lexical);
  const refusal = findQueryRefusal(statement, { dialect, tokens, kind });
  return refusal === undefined ? { allowed: true, kind } : { allowed: false, ...refusal };
}

function unparseable(error: string, tokens: readonly SqlToken[]): Judgement {
  const firstLine = error.split('\n')[0] ?? error;
  const intoFile = intoFileClause(tokens);
  const lead = leadingKeywords(tokens);
  let guess = 'iquery only runs SQL it can check.';
  if (intoFile !== undefined) guess = `It looks like SELECT … ${intoFile}, which writes a file on the database server; iquery never runs that.`;
  else if (lead !== undefined && !queryStarts.has(lead)) guess = `It starts with ${lead}; ${readOnlyReason}`;
  return refuse('UNPARSEABLE', `the SQL parser could not read it (${firstLine}). ${guess}`, hints.unparseable);
}

/** First words of the statements the guard may allow; any other first word is named in the refusal. */
const queryStarts = new Set(['SELECT', 'WITH', 'VALUES', 'FROM']);

/** Names of several statements, from their own first tokens when the semicolons line up. */
function namesOfStatements(statements: readonly unknown[], tokens: readonly SqlToken[]): string[] {
  const groups: SqlToken[][] = [[]];
  for (const token of tokens) {
    if (token.type === 'SEMICOLON') groups.push([]);
    else groups[groups.length - 1]?.push(token);
  }
  const nonEmpty = groups.filter((group) => group.length > 0);
  return statements.map((statement, index) => {
    const node = asTaggedNode(statement);
    if (node === undefined) return 'UNKNOWN';
    const group = nonEmpty.length === statements.length ? nonEmpty[index] : undefined;
    return group === undefined ? nestedStatementName(node.kind) : statementName(node.kind, group);
  });
}

/** `(SELECT 1 UNION SELECT 2)` is a `subquery` (or `paren`) around the set operation. */
function unwrapParentheses(node: TaggedNode): TaggedNode {
  let current = node;
  while ((wrapperKinds as readonly string[]).includes(current.kind)) {
    const inner = asTaggedNode(fieldOf(current.body, 'this'));
    if (inner === undefined) return current;
    current = inner;
  }
  return current;
}
