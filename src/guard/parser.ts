/**
 * The one place that talks to polyglot (`@polyglot-sql/sdk`, a Rust parser compiled to WebAssembly).
 * Its Node entry instantiates the WebAssembly module synchronously on import (`isInitialized()` is
 * always true there), so parsing stays synchronous. Every failure, thrown or returned, becomes data.
 */
import { Dialect, parse, tokenize } from '@polyglot-sql/sdk';
import type { SqlDialect } from '../sources/source.js';

const polyglotDialects = {
  duckdb: Dialect.DuckDB,
  mysql: Dialect.MySQL,
  postgres: Dialect.PostgreSQL,
} as const satisfies { readonly [Name in SqlDialect]: Dialect };

/** One lexical token. `start` and `end` count Unicode code points (not UTF-16 units), end exclusive. */
export interface SqlToken {
  /** polyglot's token type, e.g. `SELECT`, `VAR`, `STRING`, `QUOTED_IDENTIFIER`, `L_PAREN`. */
  readonly type: string;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

export type ParseOutcome =
  | { readonly ok: true; readonly statements: readonly unknown[] }
  | { readonly ok: false; readonly error: string };

export type TokenizeOutcome =
  | { readonly ok: true; readonly tokens: readonly SqlToken[] }
  | { readonly ok: false; readonly error: string };

/** Parses into polyglot's tagged JSON: one element per statement, each like `{"select": {...}}`. */
export function parseStatements(sql: string, dialect: SqlDialect): ParseOutcome {
  try {
    const result = parse(sql, polyglotDialects[dialect]);
    if (!result.success) return { ok: false, error: result.error ?? 'unknown parse error' };
    const statements: unknown = result.ast;
    if (!Array.isArray(statements)) return { ok: false, error: 'the parser returned no statement list' };
    return { ok: true, statements };
  } catch (error) {
    return { ok: false, error: `the parser failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Tokenizes with the same lexer the parser uses, in source order. Comments are not tokens. */
export function tokenizeSql(sql: string, dialect: SqlDialect): TokenizeOutcome {
  try {
    const result = tokenize(sql, polyglotDialects[dialect]);
    if (!result.success || !Array.isArray(result.tokens)) {
      return { ok: false, error: result.error ?? 'unknown tokenizer error' };
    }
    const tokens: SqlToken[] = [];
    for (const raw of result.tokens as readonly unknown[]) {
      const token = toSqlToken(raw);
      if (token === undefined) return { ok: false, error: 'the tokenizer returned a malformed token' };
      tokens.push(token);
    }
    return { ok: true, tokens };
  } catch (error) {
    return { ok: false, error: `the tokenizer failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * The published typings say `tokenType`, but version 0.12 returns `token_type`: accept both shapes
 * and check every field, so that a change in the library fails closed instead of open.
 */
function toSqlToken(raw: unknown): SqlToken | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const record = raw as Record<string, unknown>;
  const type = record['token_type'] ?? record['tokenType'];
  const text = record['text'];
  const span = record['span'];
  if (typeof type !== 'string' || typeof text !== 'string' || typeof span !== 'object' || span === null) return undefined;
  const { start, end } = span as Record<string, unknown>;
  if (typeof start !== 'number' || typeof end !== 'number' || start < 0 || end < start) return undefined;
  return { type, text, start, end };
}
