#include "db/cdr_writer.h"
#include "db/admin.h"
#include "db/schema.h"

#include "temp_db.h"

#include <gtest/gtest.h>

namespace sipgw::db {
namespace {

CallRecord record(const std::string& uuid) {
  CallRecord c;
  c.uuid = uuid;
  c.postback_key = "k-" + uuid;
  c.publisher_id = "pub1";
  c.caller = "+15551230000";
  c.number = "+18882223333";
  c.campaign_id = "camp1";
  c.buyer_id = "b2";
  c.invite_at = 1000;
  c.answer_at = 2000;
  c.end_at = 3000;
  c.final_status = 200;
  c.hangup_side = "buyer";
  c.hangup_cause = "BYE";
  c.attempts.push_back({1, "b1", "sip:b1@h", 486, "Busy Here", 1000, std::nullopt, 1500});
  c.attempts.push_back({2, "b2", "sip:b2@h", 200, "OK", 1500, 2000, 3000});
  return c;
}

TEST(CdrWriter, WritesCallsAndAttemptsInOneBatch) {
  test_support::TempDir dir;
  auto db = Connection::open(dir.file("c.db"), Connection::Mode::read_write_create);
  ASSERT_TRUE(db && migrate(*db));
  CdrWriter writer(*db);
  ASSERT_TRUE(writer.write({record("u1"), record("u2")}));
  Admin admin(*db);
  auto calls = admin.list_calls({});
  ASSERT_TRUE(calls);
  EXPECT_EQ(calls->size(), 2u);
  auto shown = admin.show_call("u1");
  ASSERT_TRUE(shown);
  auto field = [&](const std::string& name) {
    for (auto& [k, v] : shown->first) {
      if (k == name) return v;
    }
    return FieldValue{};
  };
  EXPECT_EQ(std::get<std::int64_t>(field("attempts")), 2);
  EXPECT_EQ(std::get<std::string>(field("hangup_side")), "buyer");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(field("sub_id")));
  ASSERT_EQ(shown->second.size(), 2u);
  EXPECT_EQ(std::get<std::int64_t>(shown->second[0][3].second), 486);
}

TEST(CdrWriter, AFailedBatchStoresNothing) {
  test_support::TempDir dir;
  auto db = Connection::open(dir.file("c.db"), Connection::Mode::read_write_create);
  ASSERT_TRUE(db && migrate(*db));
  // The second call of the batch is refused by the database: the first,
  // already inserted in the same transaction, must be rolled back with it.
  ASSERT_TRUE(db->execute_script("CREATE TRIGGER refuse BEFORE INSERT ON calls WHEN NEW.uuid = 'u2' "
                                 "BEGIN SELECT RAISE(ABORT, 'refused'); END;"));
  CdrWriter writer(*db);
  EXPECT_FALSE(writer.write({record("u1"), record("u2")}));
  EXPECT_EQ(db->query_int("SELECT count(*) FROM calls").value(), 0);
  EXPECT_EQ(db->query_int("SELECT count(*) FROM call_attempts").value(), 0);
}

}  // namespace
}  // namespace sipgw::db
