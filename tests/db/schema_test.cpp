#include "db/schema.h"

#include "temp_db.h"

#include <gtest/gtest.h>

namespace sipgw::db {
namespace {

using test_support::TempDir;

Connection open(const std::string& path) {
  auto c = Connection::open(path, Connection::Mode::read_write_create);
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return std::move(*c);
}

TEST(Schema, FreshDatabaseGetsEveryTable) {
  TempDir dir;
  auto db = open(dir.file("a.db"));
  auto applied = migrate(db);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(*applied, latest_schema_version());
  EXPECT_EQ(db.query_int("PRAGMA user_version").value(), latest_schema_version());
  for (const char* table : {"domains", "publishers", "credentials", "allowlist", "campaigns", "numbers", "buyers",
                            "buyer_headers", "routes", "trunk", "settings", "calls", "call_attempts"}) {
    auto stmt = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    ASSERT_TRUE(stmt);
    stmt->bind(1, table);
    EXPECT_TRUE(stmt->step().value()) << table;
  }
  EXPECT_EQ(db.query_int("PRAGMA foreign_keys").value(), 1);
  auto mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode && mode->step().value());
  EXPECT_EQ(mode->text(0), "wal");
  EXPECT_TRUE(require_current_schema(db));
}

TEST(Schema, RerunIsANoOp) {
  TempDir dir;
  auto path = dir.file("a.db");
  {
    auto db = open(path);
    ASSERT_TRUE(migrate(db));
  }
  auto before = test_support::dump_database(path);
  auto db = open(path);
  auto applied = migrate(db);
  ASSERT_TRUE(applied);
  EXPECT_EQ(*applied, 0);
  EXPECT_EQ(test_support::dump_database(path), before);
}

TEST(Schema, NewerDatabaseIsRefused) {
  TempDir dir;
  auto path = dir.file("a.db");
  auto db = open(path);
  ASSERT_TRUE(migrate(db));
  ASSERT_TRUE(db.execute_script("PRAGMA user_version=" + std::to_string(latest_schema_version() + 1)));
  auto applied = migrate(db);
  ASSERT_FALSE(applied);
  EXPECT_NE(applied.error().message.find("newer"), std::string::npos) << applied.error().message;
  EXPECT_FALSE(require_current_schema(db));
  EXPECT_EQ(db.query_int("PRAGMA user_version").value(), latest_schema_version() + 1);
}

TEST(Schema, OlderDatabaseMustBeMigratedFirst) {
  TempDir dir;
  auto db = open(dir.file("a.db"));
  auto current = require_current_schema(db);
  ASSERT_FALSE(current);
  EXPECT_NE(current.error().message.find("sipgwctl init"), std::string::npos);
}

}  // namespace
}  // namespace sipgw::db
