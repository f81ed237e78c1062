/**
 * How the guard names a statement to a person: in SQL words ('DELETE', 'CREATE TABLE', 'SET'), not
 * in polyglot's node kinds ('delete', 'create_table', 'set_statement'). polyglot files many statements
 * under catch-all kinds (`command` for VACUUM and CALL, `raw` for CREATE SECRET, `alias` for LISTEN,
 * `column` for CHECKPOINT), so for those the name comes from the statement's first words.
 */
import type { SqlToken } from './parser.js';

/** Kinds whose name does not follow from the first word, because `WITH …` may come first. */
const namesByKind: Readonly<Record<string, string>> = {
  select: 'SELECT',
  union: 'UNION',
  intersect: 'INTERSECT',
  except: 'EXCEPT',
  values: 'VALUES',
  insert: 'INSERT',
  update: 'UPDATE',
  delete: 'DELETE',
  merge: 'MERGE',
  copy: 'COPY',
  set_statement: 'SET',
  load_data: 'LOAD DATA',
  next_value_for: 'NEXT VALUE FOR',
  read_c_s_v: 'READ_CSV',
  read_parquet: 'READ_PARQUET',
  to_file: 'TO_FILE',
};

/** The statement name for a top-level node of `kind`, read from its first tokens where needed. */
export function statementName(kind: string, tokens: readonly SqlToken[]): string {
  const lead = leadingKeywords(tokens);
  if (kind === 'insert' && lead === 'REPLACE') return 'REPLACE';
  return namesByKind[kind] ?? lead ?? kindWords(kind);
}

/** The name for a statement nested in a query, e.g. a DELETE inside a WITH clause. */
export function nestedStatementName(kind: string): string {
  return namesByKind[kind] ?? kindWords(kind);
}

/** 'create_table' → 'CREATE TABLE'. */
function kindWords(kind: string): string {
  return kind.split('_').filter((word) => word !== '').join(' ').toUpperCase();
}

/** Statements named by their first word and the kind of object: CREATE TABLE, DROP VIEW, REFRESH MATERIALIZED VIEW. */
const objectStatements = new Set(['CREATE', 'DROP', 'ALTER', 'REFRESH']);

/** Words between CREATE and the object kind that do not name it. */
const objectModifiers = new Set(['OR', 'REPLACE', 'TEMP', 'TEMPORARY', 'UNIQUE', 'PERSISTENT', 'GLOBAL', 'LOCAL',
  'UNLOGGED', 'IF', 'NOT', 'EXISTS', 'DEFINER', 'ALGORITHM', 'SQL', 'SECURITY', 'RECURSIVE', 'ONLINE', 'OFFLINE']);

/** Second words that belong to the statement name: START TRANSACTION, LOAD DATA, LOCK TABLES. */
const secondWords: Readonly<Record<string, readonly string[]>> = {
  START: ['TRANSACTION', 'SLAVE', 'REPLICA'],
  LOAD: ['DATA', 'XML', 'INDEX'],
  EXPORT: ['DATABASE'],
  IMPORT: ['DATABASE', 'FOREIGN'],
  LOCK: ['TABLE', 'TABLES'],
  UNLOCK: ['TABLES'],
  EXPLAIN: ['ANALYZE'],
  RELEASE: ['SAVEPOINT'],
  RESET: ['MASTER', 'SLAVE', 'REPLICA', 'QUERY'],
  CHANGE: ['MASTER', 'REPLICATION'],
  PURGE: ['BINARY', 'MASTER'],
  RENAME: ['TABLE', 'USER'],
  INSTALL: ['PLUGIN', 'SONAME'],
  UNINSTALL: ['PLUGIN', 'SONAME'],
  CACHE: ['INDEX'],
  SECURITY: ['LABEL'],
  COMMIT: ['PREPARED'],
  ROLLBACK: ['PREPARED'],
  PREPARE: ['TRANSACTION'],
  CHECK: ['TABLE'],
  REPAIR: ['TABLE'],
  CHECKSUM: ['TABLE'],
  OPTIMIZE: ['TABLE'],
};

/**
 * The statement's first keyword or two, upper-cased, from the tokens (comments are not tokens, so a
 * leading comment does not confuse it). Undefined when the text does not start with a word.
 */
export function leadingKeywords(tokens: readonly SqlToken[]): string | undefined {
  const first = wordAt(tokens, 0);
  if (first === undefined) return undefined;
  if (objectStatements.has(first)) {
    let index = 1;
    while (objectModifiers.has(wordAt(tokens, index) ?? '')) index += 1;
    const object = wordAt(tokens, index);
    if (object === undefined) return first;
    const materialized = object === 'MATERIALIZED' ? wordAt(tokens, index + 1) : undefined;
    return [first, object, materialized].filter((word) => word !== undefined).join(' ');
  }
  const second = wordAt(tokens, 1);
  return second !== undefined && secondWords[first]?.includes(second) ? `${first} ${second}` : first;
}

/** The token at `index` upper-cased, when it is a bare word (letters, digits, underscores). */
function wordAt(tokens: readonly SqlToken[], index: number): string | undefined {
  const text = tokens[index]?.text;
  if (text === undefined || text === '' || !isWordStart(text[0] ?? '')) return undefined;
  for (const character of text) {
    if (!isWordStart(character) && !(character >= '0' && character <= '9')) return undefined;
  }
  return text.toUpperCase();
}

function isWordStart(character: string): boolean {
  return character === '_' || (character >= 'a' && character <= 'z') || (character >= 'A' && character <= 'Z');
}

/** 'INTO OUTFILE' or 'INTO DUMPFILE' when the tokens contain one (polyglot cannot parse either). */
export function intoFileClause(tokens: readonly SqlToken[]): string | undefined {
  for (let index = 0; index + 1 < tokens.length; index += 1) {
    if (wordAt(tokens, index) !== 'INTO') continue;
    const target = wordAt(tokens, index + 1);
    if (target === 'OUTFILE' || target === 'DUMPFILE') return `INTO ${target}`;
  }
  return undefined;
}
