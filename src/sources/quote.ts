/** `"name"`, with inner quotes doubled: DuckDB and PostgreSQL identifiers. */
export function quoteWithDoubleQuotes(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `` `name` ``, with inner backticks doubled: MySQL-family identifiers. */
export function quoteWithBackticks(name: string): string {
  return '`' + name.replaceAll('`', '``') + '`';
}

/** `'text'`, with inner quotes doubled: a standard SQL string literal. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
