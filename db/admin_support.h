// The shapes every Admin operation is made of (internal to db/admin_*.cpp):
// a transaction that commits only when the body succeeded, prepared
// statements bound from arguments, and the refusals that name what is in
// the way. Database failures become AdminError::Kind::database.
#pragma once

#include "db/admin.h"
#include "db/validation.h"

#include <functional>

namespace sipgw::db::support {

inline AdminError from_db(const DbError& e) {
  // Constraint failures are caught by the checks before with a precise
  // message; one that still slips through is the caller's input, not a fault.
  if (e.is_constraint()) return {AdminError::Kind::invalid, "refused by the database: " + e.message};
  if (e.is_busy()) return {AdminError::Kind::database, "database is locked (busy timeout expired): " + e.message};
  return {AdminError::Kind::database, "database error: " + e.message};
}

template <class T>
AdminResult<T> lift(DbResult<T> r) {
  if (!r) return std::unexpected(from_db(r.error()));
  if constexpr (std::is_void_v<T>) {
    return {};
  } else {
    return std::move(*r);
  }
}

// Runs body inside BEGIN IMMEDIATE ... COMMIT; anything refused rolls back.
inline AdminResult<void> in_transaction(Connection& db, const std::function<AdminResult<void>()>& body) {
  auto tx = Transaction::begin(db);
  if (!tx) return std::unexpected(from_db(tx.error()));
  if (auto ok = body(); !ok) return ok;
  return lift(tx->commit());
}

template <class... Args>
AdminResult<void> run(Connection& db, std::string_view sql, const Args&... args) {
  auto stmt = db.prepare(sql);
  if (!stmt) return std::unexpected(from_db(stmt.error()));
  stmt->bind_all(args...);
  return lift(stmt->run());
}

// A DELETE or UPDATE that must change a row; none changed: invalid(missing).
template <class... Args>
AdminResult<void> run_one(Connection& db, const std::string& missing, std::string_view sql, const Args&... args) {
  if (auto ok = run(db, sql, args...); !ok) return ok;
  if (db.changes() == 0) return std::unexpected(invalid(missing));
  return {};
}

template <class... Args>
AdminResult<bool> exists(Connection& db, std::string_view sql, const Args&... args) {
  auto stmt = db.prepare(sql);
  if (!stmt) return std::unexpected(from_db(stmt.error()));
  stmt->bind_all(args...);
  return lift(stmt->step());
}

// Refuses with `why` when the query finds a row: a duplicate, or a row
// still referred to by others.
template <class... Args>
AdminResult<void> refuse_if_exists(Connection& db, const std::string& why, std::string_view sql, const Args&... args) {
  auto found = exists(db, sql, args...);
  if (!found) return std::unexpected(found.error());
  if (*found) return std::unexpected(invalid(why));
  return {};
}

// The row `id` of table must exist: "unknown <what> '<id>'" otherwise.
inline AdminResult<void> require(Connection& db, std::string_view what, std::string_view table, const std::string& id) {
  auto found = exists(db, "SELECT 1 FROM " + std::string(table) + " WHERE id = ?", id);
  if (!found) return std::unexpected(found.error());
  if (!*found) return std::unexpected(invalid("unknown " + std::string(what) + " '" + id + "'"));
  return {};
}

template <class... Args>
AdminResult<Records> query(Connection& db, std::string_view sql, const Args&... args) {
  auto stmt = db.prepare(sql);
  if (!stmt) return std::unexpected(from_db(stmt.error()));
  stmt->bind_all(args...);
  Records out;
  while (true) {
    auto row = stmt->step();
    if (!row) return std::unexpected(from_db(row.error()));
    if (!*row) break;
    Record record;
    for (int i = 0; i < stmt->column_count(); ++i) {
      FieldValue value;
      switch (stmt->column_type(i)) {
        case SQLITE_NULL: break;
        case SQLITE_INTEGER: value = stmt->int64(i); break;
        default: value = stmt->text(i); break;
      }
      record.emplace_back(stmt->column_name(i), std::move(value));
    }
    out.push_back(std::move(record));
  }
  return out;
}

// Booleans are stored as 0/1; show them as true/false.
inline void as_bool(Records& records, std::string_view column) {
  for (auto& r : records) {
    for (auto& [name, value] : r) {
      if (name == column && std::holds_alternative<std::int64_t>(value)) value = std::get<std::int64_t>(value) != 0;
    }
  }
}

}  // namespace sipgw::db::support

namespace sipgw::db {
// A campaign's screening rules (admin_screening.cpp): checked before the
// transaction, applied inside it once the campaign row exists.
AdminResult<void> check_screening(const ScreeningChanges& screening);
AdminResult<void> apply_screening(Connection& db, const std::string& campaign_id, const ScreeningChanges& screening);
}  // namespace sipgw::db
