// A thin RAII layer over the SQLite C API. Every statement is prepared and
// bound (never formatted into SQL text); errors are values.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <expected>
#include <optional>
#include <memory>
#include <string>
#include <unordered_map>
#include <string_view>
#include <utility>

namespace sipgw::db {

struct DbError {
  int code = SQLITE_ERROR;  // primary SQLite result code
  std::string message;

  bool is_constraint() const { return (code & 0xff) == SQLITE_CONSTRAINT; }
  bool is_busy() const { return (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED; }
};

template <class T>
using DbResult = std::expected<T, DbError>;

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  // 1-based parameter index, as SQLite counts.
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, std::nullopt_t);
  template <class T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind(index, std::nullopt);
  }
  template <class... Args>
  Statement& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  // true: a row is ready; false: done.
  DbResult<bool> step();
  // Steps to completion (for INSERT/UPDATE/DELETE).
  DbResult<void> run();
  void reset();

  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::optional<std::int64_t> optional_int64(int column) const;
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  int column_count() const { return sqlite3_column_count(stmt_); }
  int column_type(int column) const { return sqlite3_column_type(stmt_, column); }
  std::string column_name(int column) const { return sqlite3_column_name(stmt_, column); }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = SQLITE_OK;
};

class Connection {
 public:
  enum class Mode { read_write, read_write_create, read_only };

  // Opens with foreign keys on, a busy timeout and (writable) WAL journaling.
  static DbResult<Connection> open(const std::string& path, Mode mode, int busy_timeout_ms = 5000);

  Connection() = default;
  Connection(Connection&& other) noexcept
      : db_(std::exchange(other.db_, nullptr)), cache_(std::move(other.cache_)) {}
  Connection& operator=(Connection&& other) noexcept;
  ~Connection();

  DbResult<Statement> prepare(std::string_view sql);
  // A statement run again and again (the CDR and postback paths): prepared
  // once per connection and kept; the handle resets it (ending any read it
  // holds) when it goes out of scope.
  class Cached {
   public:
    explicit Cached(Statement* statement) : statement_(statement) {}
    ~Cached() {
      if (statement_) statement_->reset();
    }
    Cached(Cached&& other) noexcept : statement_(std::exchange(other.statement_, nullptr)) {}
    Cached(const Cached&) = delete;
    Cached& operator=(const Cached&) = delete;
    Cached& operator=(Cached&&) = delete;
    Statement* operator->() const { return statement_; }
    Statement& operator*() const { return *statement_; }

   private:
    Statement* statement_;
  };
  DbResult<Cached> prepare_cached(const std::string& sql);
  // Runs one or more parameterless statements (schema, pragmas), each prepared.
  DbResult<void> execute_script(std::string_view sql);
  // One integer from a query such as "PRAGMA user_version".
  DbResult<std::int64_t> query_int(std::string_view sql);
  std::int64_t changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() const { return db_; }

  DbError last_error() const;

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
  // Declared after db_, destroyed before it is closed.
  std::unique_ptr<std::unordered_map<std::string, Statement>> cache_;
};

// Prepares sql, binds args to its ?s and calls on_row(statement) for each
// row it returns; the first error stops the walk and is returned.
template <class OnRow, class... Args>
DbResult<void> for_each_row(Connection& connection, std::string_view sql, OnRow on_row, const Args&... args) {
  auto statement = connection.prepare(sql);
  if (!statement) return std::unexpected(statement.error());
  statement->bind_all(args...);
  while (true) {
    auto row = statement->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return {};
    on_row(*statement);
  }
}

// BEGIN IMMEDIATE ... COMMIT; rolls back unless committed. IMMEDIATE takes
// the write lock up front, so a busy database fails at BEGIN, before any
// partial work.
class Transaction {
 public:
  static DbResult<Transaction> begin(Connection& connection);
  Transaction(Transaction&& other) noexcept : connection_(std::exchange(other.connection_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  DbResult<void> commit();

 private:
  explicit Transaction(Connection* connection) : connection_(connection) {}
  Connection* connection_ = nullptr;
};

}  // namespace sipgw::db
