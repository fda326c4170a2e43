#include "db/sqlite.h"

namespace sipgw::db {

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

DbResult<bool> Statement::step() {
  if (bind_error_ != SQLITE_OK) return std::unexpected(DbError{bind_error_, sqlite3_errstr(bind_error_)});
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(DbError{sqlite3_extended_errcode(db_), sqlite3_errmsg(db_)});
}

DbResult<void> Statement::run() {
  while (true) {
    auto row = step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return {};
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
}

std::string Statement::text(int column) const {
  auto p = sqlite3_column_text(stmt_, column);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::optional<std::int64_t> Statement::optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}

DbResult<Connection> Connection::open(const std::string& path, Mode mode, int busy_timeout_ms) {
  int flags = SQLITE_OPEN_NOMUTEX;  // each connection is used by one thread
  switch (mode) {
    case Mode::read_only: flags |= SQLITE_OPEN_READONLY; break;
    case Mode::read_write: flags |= SQLITE_OPEN_READWRITE; break;
    case Mode::read_write_create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Connection connection(raw);
  if (rc != SQLITE_OK) {
    std::string message = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return std::unexpected(DbError{rc, "cannot open database " + path + ": " + message});
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  std::string pragmas = "PRAGMA foreign_keys=ON;";
  if (mode != Mode::read_only) {
    // WAL lets sipgwctl write while sipgw reads; FULL sync because an
    // acknowledged admin change or CDR must survive a power cut.
    pragmas += "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";
  }
  if (auto ok = connection.execute_script(pragmas); !ok) {
    auto error = ok.error();
    error.message = "cannot use database " + path + ": " + error.message;
    return std::unexpected(error);
  }
  return connection;
}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    cache_.reset();
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    cache_ = std::move(other.cache_);
  }
  return *this;
}

Connection::~Connection() {
  cache_.reset();  // finalized before the close
  sqlite3_close_v2(db_);
}

DbResult<Connection::Cached> Connection::prepare_cached(const std::string& sql) {
  if (!cache_) cache_ = std::make_unique<std::unordered_map<std::string, Statement>>();
  auto it = cache_->find(sql);
  if (it == cache_->end()) {
    auto statement = prepare(sql);
    if (!statement) return std::unexpected(statement.error());
    it = cache_->emplace(sql, std::move(*statement)).first;
  }
  return Cached(&it->second);
}

DbError Connection::last_error() const { return DbError{sqlite3_extended_errcode(db_), sqlite3_errmsg(db_)}; }

DbResult<Statement> Connection::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &stmt, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(last_error());
  return Statement(db_, stmt);
}

DbResult<void> Connection::execute_script(std::string_view sql) {
  const char* tail = sql.data();
  const char* end = sql.data() + sql.size();
  while (tail < end) {
    sqlite3_stmt* stmt = nullptr;
    const char* next = nullptr;
    int rc = sqlite3_prepare_v3(db_, tail, static_cast<int>(end - tail), 0, &stmt, &next);
    if (rc != SQLITE_OK) return std::unexpected(last_error());
    tail = next;
    if (stmt == nullptr) continue;  // whitespace or comment
    Statement statement(db_, stmt);
    if (auto ok = statement.run(); !ok) return ok;
  }
  return {};
}

DbResult<std::int64_t> Connection::query_int(std::string_view sql) {
  auto stmt = prepare(sql);
  if (!stmt) return std::unexpected(stmt.error());
  auto row = stmt->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::unexpected(DbError{SQLITE_ERROR, "no row for: " + std::string(sql)});
  return stmt->int64(0);
}

DbResult<Transaction> Transaction::begin(Connection& connection) {
  if (auto ok = connection.execute_script("BEGIN IMMEDIATE"); !ok) return std::unexpected(ok.error());
  return Transaction(&connection);
}

Transaction::~Transaction() {
  if (connection_ != nullptr) (void)connection_->execute_script("ROLLBACK");
}

DbResult<void> Transaction::commit() {
  auto ok = connection_->execute_script("COMMIT");
  if (ok) connection_ = nullptr;
  return ok;
}

}  // namespace sipgw::db
