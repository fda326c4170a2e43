// Test helpers: a temporary database path and a full, deterministic dump of
// a database (schema and every row) for byte-for-byte comparisons.
#pragma once

#include "db/sqlite.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

namespace sipgw::test_support {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("sipgw-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Every table's SQL and rows, in rowid/primary-key order, as text.
inline std::string dump_database(const std::string& path) {
  auto db = db::Connection::open(path, db::Connection::Mode::read_only);
  EXPECT_TRUE(db) << (db ? "" : db.error().message);
  if (!db) return {};
  std::string out = "user_version=" + std::to_string(db->query_int("PRAGMA user_version").value_or(-1)) + "\n";
  auto tables = db->prepare("SELECT name, sql FROM sqlite_master ORDER BY type, name");
  std::vector<std::pair<std::string, bool>> names;
  while (tables && tables->step().value_or(false)) {
    out += tables->text(1) + "\n";
    auto sql = tables->text(1);
    if (sql.rfind("CREATE TABLE", 0) == 0) names.emplace_back(tables->text(0), true);
  }
  for (auto& [name, _] : names) {
    // Table names come from sqlite_master, not from input.
    auto rows = db->prepare("SELECT * FROM \"" + name + "\" ORDER BY 1, 2");
    if (!rows) continue;
    out += "-- " + name + "\n";
    while (rows->step().value_or(false)) {
      for (int i = 0; i < rows->column_count(); ++i) {
        out += rows->is_null(i) ? std::string("NULL") : "'" + rows->text(i) + "'";
        out += i + 1 < rows->column_count() ? "|" : "\n";
      }
    }
  }
  return out;
}

}  // namespace sipgw::test_support
