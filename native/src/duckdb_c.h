// The part of DuckDB's C API (duckdb.h, stable since 1.0) that the frame writer calls, declared here
// because @duckdb/node-bindings ships libduckdb.so without its header. The layouts and values follow
// duckdb.h of DuckDB 1.5; the addon links against the same libduckdb.so that @duckdb/node-api loads.
#pragma once
#include <cstdint>

extern "C" {
typedef uint64_t idx_t;

typedef enum { DuckDBSuccess = 0, DuckDBError = 1 } duckdb_state;

// DUCKDB_TYPE values used here.
enum : int32_t {
  DUCKDB_TYPE_BOOLEAN = 1,
  DUCKDB_TYPE_TINYINT = 2,
  DUCKDB_TYPE_SMALLINT = 3,
  DUCKDB_TYPE_INTEGER = 4,
  DUCKDB_TYPE_BIGINT = 5,
  DUCKDB_TYPE_UTINYINT = 6,
  DUCKDB_TYPE_USMALLINT = 7,
  DUCKDB_TYPE_UINTEGER = 8,
  DUCKDB_TYPE_UBIGINT = 9,
  DUCKDB_TYPE_FLOAT = 10,
  DUCKDB_TYPE_DOUBLE = 11,
  DUCKDB_TYPE_TIMESTAMP = 12,
  DUCKDB_TYPE_DATE = 13,
  DUCKDB_TYPE_HUGEINT = 16,
  DUCKDB_TYPE_VARCHAR = 17,
  DUCKDB_TYPE_DECIMAL = 19,
  DUCKDB_TYPE_TIMESTAMP_S = 20,
  DUCKDB_TYPE_TIMESTAMP_MS = 21,
  DUCKDB_TYPE_TIMESTAMP_NS = 22,
  DUCKDB_TYPE_TIMESTAMP_TZ = 31,
};
typedef int32_t duckdb_type;

enum : int32_t { DUCKDB_STATEMENT_TYPE_SELECT = 1 };
typedef int32_t duckdb_statement_type;

typedef struct _duckdb_database { void *internal_ptr; } *duckdb_database;
typedef struct _duckdb_connection { void *internal_ptr; } *duckdb_connection;
typedef struct _duckdb_config { void *internal_ptr; } *duckdb_config;
typedef struct _duckdb_extracted_statements { void *internal_ptr; } *duckdb_extracted_statements;
typedef struct _duckdb_prepared_statement { void *internal_ptr; } *duckdb_prepared_statement;
typedef struct _duckdb_pending_result { void *internal_ptr; } *duckdb_pending_result;
typedef struct _duckdb_logical_type { void *internal_ptr; } *duckdb_logical_type;
typedef struct _duckdb_data_chunk { void *internal_ptr; } *duckdb_data_chunk;
typedef struct _duckdb_vector { void *internal_ptr; } *duckdb_vector;

typedef struct {
  idx_t deprecated_column_count;
  idx_t deprecated_row_count;
  idx_t deprecated_rows_changed;
  void *deprecated_columns;
  char *deprecated_error_message;
  void *internal_data;
} duckdb_result;

duckdb_state duckdb_create_config(duckdb_config *out_config);
duckdb_state duckdb_set_config(duckdb_config config, const char *name, const char *option);
void duckdb_destroy_config(duckdb_config *config);
duckdb_state duckdb_open_ext(const char *path, duckdb_database *out_database, duckdb_config config, char **out_error);
void duckdb_close(duckdb_database *database);
void duckdb_free(void *ptr);

duckdb_state duckdb_connect(duckdb_database database, duckdb_connection *out_connection);
void duckdb_interrupt(duckdb_connection connection);
void duckdb_disconnect(duckdb_connection *connection);

idx_t duckdb_extract_statements(duckdb_connection connection, const char *query, duckdb_extracted_statements *out_statements);
const char *duckdb_extract_statements_error(duckdb_extracted_statements statements);
duckdb_state duckdb_prepare_extracted_statement(duckdb_connection connection, duckdb_extracted_statements statements, idx_t index,
                                                duckdb_prepared_statement *out_prepared);
void duckdb_destroy_extracted(duckdb_extracted_statements *statements);
const char *duckdb_prepare_error(duckdb_prepared_statement prepared);
duckdb_statement_type duckdb_prepared_statement_type(duckdb_prepared_statement statement);
void duckdb_destroy_prepare(duckdb_prepared_statement *prepared);

duckdb_state duckdb_pending_prepared_streaming(duckdb_prepared_statement prepared, duckdb_pending_result *out_result);
duckdb_state duckdb_execute_pending(duckdb_pending_result pending, duckdb_result *out_result);
const char *duckdb_pending_error(duckdb_pending_result pending);
void duckdb_destroy_pending(duckdb_pending_result *pending);

const char *duckdb_result_error(duckdb_result *result);
void duckdb_destroy_result(duckdb_result *result);
idx_t duckdb_column_count(duckdb_result *result);
const char *duckdb_column_name(duckdb_result *result, idx_t column);
duckdb_logical_type duckdb_column_logical_type(duckdb_result *result, idx_t column);
duckdb_type duckdb_get_type_id(duckdb_logical_type type);
uint8_t duckdb_decimal_width(duckdb_logical_type type);
uint8_t duckdb_decimal_scale(duckdb_logical_type type);
void duckdb_destroy_logical_type(duckdb_logical_type *type);

// Chunks from a query result are flat (QueryResult::Fetch flattens them).
duckdb_data_chunk duckdb_fetch_chunk(duckdb_result result);
idx_t duckdb_data_chunk_get_size(duckdb_data_chunk chunk);
duckdb_vector duckdb_data_chunk_get_vector(duckdb_data_chunk chunk, idx_t column);
void *duckdb_vector_get_data(duckdb_vector vector);
uint64_t *duckdb_vector_get_validity(duckdb_vector vector);
void duckdb_destroy_data_chunk(duckdb_data_chunk *chunk);
}
