// iquery's native frame writer: runs one guarded SELECT on a DuckDB file and writes its result as a
// frame (src/sandbox/frames/FORMAT.md) straight from DuckDB's vectors, on a worker thread, so that no
// row, chunk or buffer passes through JavaScript. The TypeScript side (src/sources/duckdb/native-frames.ts)
// has already run the SQL guard; this side checks again that DuckDB sees exactly one SELECT, and the
// database is opened with the same locked-down settings as the engine's own instance.
//
// JS API:
//   openDatabase(path) -> { writeFrame(sql, directory, maxRows) -> { done: Promise<Result>, interrupt() }, close() }
//   Result: { rows, truncated, bytes, columns: [{ name, nativeType, kind, ...manifest fields }] }
//        or { unsupported: "column \"x\" is INTERVAL" } when a column has no raw form here (nothing written).
//   A failed query rejects with an Error whose `code` is "sql_refused" or "query_failed".
#include <napi.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "chunk_pipe.h"
#include "duckdb_c.h"
#include "output_file.h"
#include "string_column.h"

namespace iquery {
namespace {

const char *const lockedDown[][2] = {
    {"access_mode", "READ_ONLY"},
    {"enable_external_access", "false"},
    {"autoinstall_known_extensions", "false"},
    {"autoload_known_extensions", "false"},
    {"allow_community_extensions", "false"},
    {"lock_configuration", "true"},
};

/** An error for JS with a code the TypeScript side maps (sql_refused, query_failed). */
struct QueryError {
  std::string code;
  std::string message;
};

/** How a column is stored in the frame. */
struct ColumnPlan {
  std::string name;
  std::string native_type;
  std::string kind;  // manifest kind: int64, float64, timestamp, decimal, category (or string), ...
  size_t width = 0;  // bytes per value for fixed-width columns; 0 for strings
  std::string unit;  // timestamp unit
  bool utc = false;
  std::string storage;  // decimal storage
  int scale = 0;
};

bool plan_column(duckdb_logical_type type, ColumnPlan &plan) {
  auto fixed = [&](const char *kind, size_t width, const char *native) {
    plan.kind = kind;
    plan.width = width;
    plan.native_type = native;
    return true;
  };
  auto timestamp = [&](const char *unit, bool utc, const char *native) {
    plan.kind = "timestamp";
    plan.width = 8;
    plan.unit = unit;
    plan.utc = utc;
    plan.native_type = native;
    return true;
  };
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN: return fixed("bool", 1, "BOOLEAN");
    case DUCKDB_TYPE_TINYINT: return fixed("int8", 1, "TINYINT");
    case DUCKDB_TYPE_SMALLINT: return fixed("int16", 2, "SMALLINT");
    case DUCKDB_TYPE_INTEGER: return fixed("int32", 4, "INTEGER");
    case DUCKDB_TYPE_BIGINT: return fixed("int64", 8, "BIGINT");
    case DUCKDB_TYPE_HUGEINT: return fixed("int128", 16, "HUGEINT");
    case DUCKDB_TYPE_UTINYINT: return fixed("uint8", 1, "UTINYINT");
    case DUCKDB_TYPE_USMALLINT: return fixed("uint16", 2, "USMALLINT");
    case DUCKDB_TYPE_UINTEGER: return fixed("uint32", 4, "UINTEGER");
    case DUCKDB_TYPE_UBIGINT: return fixed("uint64", 8, "UBIGINT");
    case DUCKDB_TYPE_FLOAT: return fixed("float32", 4, "FLOAT");
    case DUCKDB_TYPE_DOUBLE: return fixed("float64", 8, "DOUBLE");
    case DUCKDB_TYPE_DATE: return fixed("date32", 4, "DATE");
    case DUCKDB_TYPE_TIMESTAMP: return timestamp("us", false, "TIMESTAMP");
    case DUCKDB_TYPE_TIMESTAMP_S: return timestamp("s", false, "TIMESTAMP_S");
    case DUCKDB_TYPE_TIMESTAMP_MS: return timestamp("ms", false, "TIMESTAMP_MS");
    case DUCKDB_TYPE_TIMESTAMP_NS: return timestamp("ns", false, "TIMESTAMP_NS");
    case DUCKDB_TYPE_TIMESTAMP_TZ: return timestamp("us", true, "TIMESTAMP WITH TIME ZONE");
    case DUCKDB_TYPE_VARCHAR:
      plan.kind = "category";
      plan.native_type = "VARCHAR";
      return true;
    case DUCKDB_TYPE_DECIMAL: {
      int width = duckdb_decimal_width(type);
      plan.scale = duckdb_decimal_scale(type);
      plan.kind = "decimal";
      plan.native_type = "DECIMAL(" + std::to_string(width) + "," + std::to_string(plan.scale) + ")";
      if (width <= 4) plan.storage = "int16", plan.width = 2;
      else if (width <= 9) plan.storage = "int32", plan.width = 4;
      else if (width <= 18) plan.storage = "int64", plan.width = 8;
      else if (width <= 38) plan.storage = "int128", plan.width = 16;
      else return false;
      return true;
    }
    default:
      return false;
  }
}

/** One column's files while the result streams. */
struct ColumnOutput {
  ColumnPlan plan;
  std::string prefix;
  std::unique_ptr<OutputFile> data;
  std::unique_ptr<ValidityFile> validity;
  std::unique_ptr<StringColumn> strings;
  uint64_t bytes = 0;

  ColumnOutput(ColumnPlan column_plan, std::string file_prefix) : plan(std::move(column_plan)), prefix(std::move(file_prefix)) {
    if (plan.width == 0) {
      strings = std::make_unique<StringColumn>(prefix);
    } else {
      data = std::make_unique<OutputFile>(prefix + ".data");
      validity = std::make_unique<ValidityFile>(prefix + ".validity");
    }
  }

  void append(duckdb_vector vector, uint64_t count) {
    const void *values = duckdb_vector_get_data(vector);
    const uint64_t *mask = duckdb_vector_get_validity(vector);
    if (strings != nullptr) {
      strings->append(static_cast<const StringRecord *>(values), mask, count);
      return;
    }
    data->append(values, count * plan.width);
    validity->append(mask, count);
  }

  void finish() {
    if (strings != nullptr) {
      bytes = strings->finish();
      return;
    }
    data->close();
    validity->close();
    bytes = data->size() + validity->size();
  }
};

std::string base_name(const std::string &path) { return path.substr(path.find_last_of('/') + 1); }

/** Shared between the worker and the `interrupt` function handed to JS. */
struct QueryState {
  duckdb_connection connection = nullptr;
  std::atomic<bool> running{true};
  ~QueryState() {
    if (connection != nullptr) duckdb_disconnect(&connection);
  }
};

class FrameWorker : public Napi::AsyncWorker {
 public:
  FrameWorker(Napi::Env env, std::shared_ptr<QueryState> state, std::string sql, std::string directory, uint64_t max_rows)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), state_(std::move(state)), sql_(std::move(sql)),
        directory_(std::move(directory)), max_rows_(max_rows) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      run();
    } catch (const QueryError &failure) {
      error_ = failure;
    } catch (const std::exception &failure) {
      error_ = QueryError{"query_failed", failure.what()};
    }
    state_->running = false;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!error_.message.empty()) {
      Napi::Error failure = Napi::Error::New(env, error_.message);
      failure.Set("code", Napi::String::New(env, error_.code));
      deferred_.Reject(failure.Value());
      return;
    }
    Napi::Object result = Napi::Object::New(env);
    if (!unsupported_.empty()) {
      result.Set("unsupported", unsupported_);
      deferred_.Resolve(result);
      return;
    }
    result.Set("rows", Napi::Number::New(env, static_cast<double>(rows_)));
    result.Set("truncated", Napi::Boolean::New(env, truncated_));
    double bytes = 0;
    Napi::Array columns = Napi::Array::New(env, outputs_.size());
    for (size_t index = 0; index < outputs_.size(); index++) {
      ColumnOutput &output = *outputs_[index];
      bytes += static_cast<double>(output.bytes);
      columns.Set(index, describe(env, output));
    }
    result.Set("bytes", Napi::Number::New(env, bytes));
    result.Set("columns", columns);
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error &failure) override { deferred_.Reject(failure.Value()); }

 private:
  static Napi::Object describe(Napi::Env env, ColumnOutput &output) {
    const ColumnPlan &plan = output.plan;
    Napi::Object column = Napi::Object::New(env);
    column.Set("name", plan.name);
    column.Set("native_type", plan.native_type);
    if (output.strings != nullptr) {
      StringColumn &strings = *output.strings;
      if (strings.plain()) {
        column.Set("kind", "string");
        column.Set("offsets", base_name(output.prefix + ".offsets"));
        column.Set("data", base_name(output.prefix + ".data"));
        if (strings.plain_validity()->exists()) column.Set("validity", base_name(strings.plain_validity()->path()));
      } else {
        column.Set("kind", "category");
        column.Set("codes", base_name(output.prefix + ".codes"));
        column.Set("categories", Napi::Number::New(env, static_cast<double>(strings.categories())));
        column.Set("dictionary_offsets", base_name(output.prefix + ".dictionary_offsets"));
        column.Set("dictionary", base_name(output.prefix + ".dictionary"));
      }
      column.Set("nulls", Napi::Number::New(env, static_cast<double>(strings.nulls())));
      return column;
    }
    column.Set("kind", plan.kind);
    if (plan.kind == "timestamp") {
      column.Set("unit", plan.unit);
      if (plan.utc) column.Set("timezone", "UTC");
    }
    if (plan.kind == "decimal") {
      column.Set("storage", plan.storage);
      column.Set("scale", plan.scale);
    }
    column.Set("data", base_name(output.data->path()));
    if (output.validity->exists()) column.Set("validity", base_name(output.validity->path()));
    column.Set("nulls", Napi::Number::New(env, static_cast<double>(output.validity->nulls())));
    return column;
  }

  void run() {
    duckdb_connection connection = state_->connection;
    duckdb_extracted_statements statements = nullptr;
    idx_t count = duckdb_extract_statements(connection, sql_.c_str(), &statements);
    struct Cleanup {
      duckdb_extracted_statements *statements;
      duckdb_prepared_statement prepared = nullptr;
      duckdb_pending_result pending = nullptr;
      duckdb_result result{};
      bool has_result = false;
      ~Cleanup() {
        if (has_result) duckdb_destroy_result(&result);
        if (pending != nullptr) duckdb_destroy_pending(&pending);
        if (prepared != nullptr) duckdb_destroy_prepare(&prepared);
        duckdb_destroy_extracted(statements);
      }
    } cleanup{&statements};
    if (count == 0) {
      const char *message = duckdb_extract_statements_error(statements);
      throw QueryError{"query_failed", message != nullptr ? message : "DuckDB could not read the statement"};
    }
    // DuckDB's own parser is a second opinion after the guard: exactly one statement, and a SELECT.
    if (count != 1) {
      throw QueryError{"sql_refused", "Refused: DuckDB found " + std::to_string(count) + " statements; iquery runs exactly one read-only query."};
    }
    if (duckdb_prepare_extracted_statement(connection, statements, 0, &cleanup.prepared) != DuckDBSuccess) {
      throw QueryError{"query_failed", duckdb_prepare_error(cleanup.prepared)};
    }
    if (duckdb_prepared_statement_type(cleanup.prepared) != DUCKDB_STATEMENT_TYPE_SELECT) {
      throw QueryError{"sql_refused", "Refused: iquery only runs read-only queries (SELECT, WITH … SELECT, VALUES)."};
    }
    if (duckdb_pending_prepared_streaming(cleanup.prepared, &cleanup.pending) != DuckDBSuccess) {
      throw QueryError{"query_failed", duckdb_pending_error(cleanup.pending)};
    }
    cleanup.has_result = true;
    if (duckdb_execute_pending(cleanup.pending, &cleanup.result) != DuckDBSuccess) {
      const char *message = duckdb_result_error(&cleanup.result);
      throw QueryError{"query_failed", message != nullptr ? message : "the query failed"};
    }
    duckdb_result &result = cleanup.result;

    idx_t columns = duckdb_column_count(&result);
    std::vector<ColumnPlan> plans(columns);
    for (idx_t column = 0; column < columns; column++) {
      plans[column].name = duckdb_column_name(&result, column);
      duckdb_logical_type type = duckdb_column_logical_type(&result, column);
      bool supported = plan_column(type, plans[column]);
      duckdb_destroy_logical_type(&type);
      if (!supported) {
        unsupported_ = "column \"" + plans[column].name + "\" has a type without a raw form here";
        return;
      }
    }
    for (idx_t column = 0; column < columns; column++) {
      outputs_.push_back(std::make_unique<ColumnOutput>(plans[column], directory_ + "/c" + std::to_string(column)));
    }

    ChunkPipe pipe(16);
    ChunkFetcher fetcher(result, pipe);
    for (;;) {
      duckdb_data_chunk chunk = pipe.pop();
      if (chunk == nullptr) break;
      uint64_t size = duckdb_data_chunk_get_size(chunk);
      uint64_t take = size;
      if (rows_ + size > max_rows_) {
        take = max_rows_ - rows_;
        truncated_ = true;
      }
      try {
        for (idx_t column = 0; column < columns; column++) outputs_[column]->append(duckdb_data_chunk_get_vector(chunk, column), take);
      } catch (...) {
        duckdb_destroy_data_chunk(&chunk);
        throw;
      }
      duckdb_destroy_data_chunk(&chunk);
      rows_ += take;
      if (truncated_) break;
    }
    fetcher.finish();
    const char *failure = duckdb_result_error(&result);
    if (failure != nullptr && failure[0] != '\0') throw QueryError{"query_failed", failure};
    for (auto &output : outputs_) output->finish();
  }

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<QueryState> state_;
  std::string sql_;
  std::string directory_;
  uint64_t max_rows_;
  std::vector<std::unique_ptr<ColumnOutput>> outputs_;
  uint64_t rows_ = 0;
  bool truncated_ = false;
  std::string unsupported_;
  QueryError error_;
};

/** A DuckDB file opened read-only and locked down; one connection per frame. */
class Database : public Napi::ObjectWrap<Database> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Database", {InstanceMethod("writeFrame", &Database::WriteFrame), InstanceMethod("close", &Database::Close)});
  }

  explicit Database(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Database>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
      Napi::TypeError::New(env, "openDatabase(path) needs a path").ThrowAsJavaScriptException();
      return;
    }
    std::string path = info[0].As<Napi::String>();
    duckdb_config config = nullptr;
    duckdb_create_config(&config);
    for (const auto &setting : lockedDown) duckdb_set_config(config, setting[0], setting[1]);
    char *failure = nullptr;
    duckdb_state state = duckdb_open_ext(path.c_str(), &database_, config, &failure);
    duckdb_destroy_config(&config);
    if (state != DuckDBSuccess) {
      std::string message = failure != nullptr ? failure : "cannot open the database";
      if (failure != nullptr) duckdb_free(failure);
      database_ = nullptr;
      Napi::Error::New(env, message).ThrowAsJavaScriptException();
    }
  }

  ~Database() override { close(); }

 private:
  Napi::Value WriteFrame(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (database_ == nullptr) {
      Napi::Error::New(env, "the native frame database is closed").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsNumber()) {
      Napi::TypeError::New(env, "writeFrame(sql, directory, maxRows)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto state = std::make_shared<QueryState>();
    if (duckdb_connect(database_, &state->connection) != DuckDBSuccess) {
      state->connection = nullptr;
      Napi::Error::New(env, "cannot connect to the native frame database").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    double max_rows = info[2].As<Napi::Number>().DoubleValue();
    auto *worker = new FrameWorker(env, state, info[0].As<Napi::String>(), info[1].As<Napi::String>(),
                                   max_rows < 0 ? 0 : static_cast<uint64_t>(max_rows));
    Napi::Object query = Napi::Object::New(env);
    query.Set("done", worker->promise());
    query.Set("interrupt", Napi::Function::New(env, [state](const Napi::CallbackInfo &) {
                if (state->running) duckdb_interrupt(state->connection);
              }));
    worker->Queue();
    return query;
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    close();
    return info.Env().Undefined();
  }

  // Running queries keep DuckDB's instance alive through their connections until they finish.
  void close() {
    if (database_ != nullptr) duckdb_close(&database_);
    database_ = nullptr;
  }

  duckdb_database database_ = nullptr;
};

}  // namespace

}  // namespace iquery

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("Database", iquery::Database::Define(env));
  return exports;
}

NODE_API_MODULE(iquery_frames, InitModule)
