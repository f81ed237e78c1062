/**
 * What the SQL guard refuses, kept as data so that a reviewer can read the policy without reading the
 * tree walk. Node kinds are the tags of polyglot's JSON tree (`{"select": {...}}` has kind `select`).
 * Names are compared lower-cased.
 */
import type { SqlDialect } from '../sources/source.js';

/** Statement kinds that may run: a query and nothing else. `WITH … SELECT` is a `select` with a `with`. */
export const allowedStatementKinds = ['select', 'union', 'intersect', 'except', 'values'] as const;

/** Kinds that only wrap another expression in parentheses, e.g. `(SELECT 1 UNION SELECT 2)`. */
export const wrapperKinds = ['subquery', 'paren'] as const;

/**
 * Node kinds that are a statement of their own (or run one), refused wherever they sit in the tree:
 * PostgreSQL and DuckDB accept `WITH d AS (DELETE … RETURNING *) SELECT …`, so DML hides in queries.
 * `command` and `raw` are polyglot's catch-alls for statements it only half understands.
 */
export const nestedStatementKinds = [
  'insert', 'update', 'delete', 'merge', 'truncate', 'truncate_table', 'copy', 'put', 'get', 'load_data',
  'export', 'undrop', 'split_table', 'flashback_table', 'clone', 'cache', 'uncache', 'refresh',
  'use', 'pragma', 'set_statement', 'set', 'attach', 'detach', 'install', 'grant', 'revoke', 'comment',
  'kill', 'prepare', 'execute', 'declare', 'transaction', 'commit', 'rollback', 'alter_session',
  'locking_statement', 'lock', 'command', 'raw', 'describe', 'show', 'summarize', 'create_task',
  'conditional_insert', 'multitable_inserts', 'try_catch', 'return_stmt', 'for_in',
] as const;

/** Kind prefixes of the same family: `create_table`, `drop_view`, `alter_index`, `analyze_…`. */
export const nestedStatementKindPrefixes = ['create_', 'drop_', 'alter_', 'analyze'] as const;

/**
 * Kinds that reach outside the database or change state by themselves, whatever their arguments:
 * polyglot turns some dialects' file readers into typed nodes instead of plain `function` calls.
 * The DuckDB `GLOB` operator (`'a' GLOB 'a*'`, kind `glob`) is deliberately absent: it only matches
 * patterns against strings; the file-listing table function `glob('/etc/*')` is a `function` node.
 */
export const dangerousNodeKinds: Readonly<Record<string, string>> = {
  read_c_s_v: 'reads files or URLs',
  read_parquet: 'reads files or URLs',
  to_file: 'writes files',
  directory: 'lists files',
  stage_reference: 'reads files from a stage',
  credentials: 'carries credentials',
  credentials_property: 'carries credentials',
  next_value_for: 'advances a sequence (a write)',
};

/**
 * Functions refused by name. `why` completes the sentence "it calls f(), which …". A name matches
 * when it equals a listed name, starts with a prefix or ends with a suffix; every part of a
 * qualified name is checked, so `pg_catalog.pg_read_file` is caught.
 */
export interface FunctionRule {
  readonly why: string;
  readonly names?: readonly string[];
  readonly prefixes?: readonly string[];
  readonly suffixes?: readonly string[];
}

/**
 * Left allowed on purpose: MySQL `SLEEP` and PostgreSQL `pg_sleep` (the query time limit stops them),
 * DuckDB `current_setting` and `duckdb_settings` (settings, not secrets: credentials live in secrets,
 * which are refused), `information_schema` and `pg_stat_activity` (ordinary metadata, filtered by the
 * database's own privileges).
 */
export const deniedFunctions: { readonly [Dialect in SqlDialect]: readonly FunctionRule[] } = {
  duckdb: [
    {
      why: 'reaches another database through an extension',
      prefixes: ['postgres_', 'mysql_', 'sqlite_', 'odbc_'],
      suffixes: ['_attach'],
    },
    {
      why: 'reads files or URLs',
      names: ['glob', 'sniff_csv', 'from_csv_auto', 'load_aws_credentials'],
      prefixes: ['read_', 'parquet_', 'st_read', 'iceberg_', 'scan_', 'http_', 'httpfs_', 'ducklake_'],
      suffixes: ['_scan'],
    },
    { why: 'reads the environment of the iquery process', names: ['getenv'] },
    { why: 'runs SQL text the guard cannot inspect', names: ['query', 'query_table', 'json_execute_serialized_sql'] },
    { why: 'exposes stored secrets', names: ['duckdb_secrets', 'which_secret'] },
    { why: 'runs a PRAGMA, which iquery does not allow', prefixes: ['pragma_'] },
    {
      why: 'changes the database or its settings',
      names: ['checkpoint', 'force_checkpoint', 'nextval', 'setval', 'load', 'install', 'enable_logging',
        'disable_logging', 'truncate_duckdb_logs', 'enable_profiling', 'disable_profiling'],
    },
    { why: 'starts a server', prefixes: ['start_ui', 'stop_ui', 'httpserve_'] },
  ],
  mysql: [
    { why: 'reads files on the database server', names: ['load_file'] },
    { why: 'burns CPU on purpose (a denial of service)', names: ['benchmark'] },
    {
      why: 'takes or waits for server-wide locks',
      names: ['get_lock', 'release_lock', 'release_all_locks', 'is_free_lock', 'is_used_lock', 'master_pos_wait',
        'source_pos_wait', 'master_gtid_wait', 'wait_for_executed_gtid_set', 'wait_until_sql_thread_after_gtids'],
    },
    { why: 'runs shell commands (a user-defined function)', names: ['sys_exec', 'sys_eval', 'sys_get', 'sys_set'], prefixes: ['lib_mysqludf_'] },
    { why: 'advances a sequence, which writes to the database', names: ['nextval', 'setval'] },
  ],
  postgres: [
    {
      why: 'reads or writes files on the database server',
      names: ['pg_stat_file', 'pg_current_logfile', 'pg_logdir_ls', 'loread', 'lowrite'],
      prefixes: ['pg_read_', 'pg_ls_', 'pg_file_', 'lo_'],
    },
    { why: 'connects to other databases', prefixes: ['dblink'] },
    {
      why: 'runs SQL text the guard cannot inspect',
      names: ['ts_stat', 'ts_rewrite'],
      prefixes: ['query_to_xml', 'cursor_to_xml', 'table_to_xml', 'schema_to_xml', 'database_to_xml'],
    },
    {
      why: 'administers the server',
      names: ['pg_terminate_backend', 'pg_cancel_backend', 'pg_signal_backend', 'pg_reload_conf', 'set_config',
        'pg_rotate_logfile', 'pg_rotate_logfile_old', 'pg_switch_wal', 'pg_switch_xlog', 'pg_promote',
        'pg_backup_start', 'pg_backup_stop', 'pg_start_backup', 'pg_stop_backup', 'pg_import_system_collations',
        'pg_drop_replication_slot', 'pg_stat_statements_reset', 'pg_execute_server_program'],
      prefixes: ['pg_create_', 'pg_copy_', 'pg_logical_', 'pg_replication_', 'pg_wal_replay_', 'pg_stat_reset',
        'pg_log_', 'binary_upgrade_'],
    },
    { why: 'takes advisory locks', prefixes: ['pg_advisory_', 'pg_try_advisory_'] },
    { why: 'writes to the database', names: ['nextval', 'setval', 'pg_notify'] },
  ],
};

/** Tables refused because they hold credentials or server files. A rule matches a schema or a name. */
export interface TableRule {
  readonly why: string;
  readonly schemas?: readonly string[];
  readonly names?: readonly string[];
}

export const deniedTables: { readonly [Dialect in SqlDialect]: readonly TableRule[] } = {
  duckdb: [{ why: 'holds stored secrets', names: ['duckdb_secrets'] }],
  mysql: [{ why: 'holds accounts and password hashes (the `mysql` system schema)', schemas: ['mysql'] }],
  postgres: [
    {
      why: 'holds password hashes or connection passwords',
      names: ['pg_authid', 'pg_shadow', 'pg_user_mapping', 'pg_user_mappings', 'user_mapping_options',
        'pg_subscription', 'pg_largeobject'],
    },
    { why: 'reads server configuration files', names: ['pg_hba_file_rules', 'pg_ident_file_mappings', 'pg_file_settings'] },
  ],
};

/**
 * File endings that make DuckDB read a file for an unknown table name (a "replacement scan"):
 * `FROM data.csv` and `FROM "x.parquet"` read files, `FROM "x.db"` attaches a database, and
 * `x.xlsx` or `x.avro` make DuckDB download an extension. Compression endings cover `x.csv.gz`.
 * Only names containing a dot are compared, so a table simply called `csv` stays usable.
 */
export const dataFileExtensions = [
  'csv', 'tsv', 'psv', 'tbl', 'txt', 'parquet', 'json', 'jsonl', 'ndjson', 'geojson', 'xlsx', 'xls', 'arrow',
  'feather', 'ipc', 'avro', 'orc', 'db', 'duckdb', 'ddb', 'sqlite', 'sqlite3', 'gpkg', 'shp', 'gz', 'gzip', 'zst',
  'zstd', 'bz2', 'xz', 'lz4', 'zip',
] as const;

/** Characters that make a DuckDB table name a path, a URL or a glob pattern. */
export const pathCharacters = ['/', '\\', ':', '*', '?', '~'] as const;
