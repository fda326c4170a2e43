#include "db/ctl_output.h"

#include <gtest/gtest.h>

#include <sstream>

namespace sipgw::db {
namespace {

Records rows() {
  return {Record{{"id", std::string("b1")}, {"enabled", true}, {"daily_cap", std::monostate{}},
                 {"answer_at", std::int64_t{1780315200000}}},
          Record{{"id", std::string("buyer-two")}, {"enabled", false}, {"daily_cap", std::int64_t{10}},
                 {"answer_at", std::monostate{}}}};
}

TEST(CtlOutput, TablesAlignColumnsUnderTheirNames) {
  std::ostringstream out;
  print_table(out, rows());
  EXPECT_EQ(out.str(),
            "id         enabled  daily_cap  answer_at\n"
            "b1         yes      -          2026-06-01T12:00:00Z\n"
            "buyer-two  no       10         -\n");
  std::ostringstream none;
  print_table(none, {});
  EXPECT_EQ(none.str(), "");
}

TEST(CtlOutput, RecordsAreKeyValueLines) {
  std::ostringstream out;
  print_record(out, rows()[0]);
  EXPECT_EQ(out.str(), "id:        b1\nenabled:   yes\ndaily_cap: -\nanswer_at: 2026-06-01T12:00:00Z\n");
}

TEST(CtlOutput, JsonKeepsTypesAndOrder) {
  EXPECT_EQ(as_json(rows()).dump(),
            R"([{"id":"b1","enabled":true,"daily_cap":null,"answer_at":1780315200000},)"
            R"({"id":"buyer-two","enabled":false,"daily_cap":10,"answer_at":null}])");
  EXPECT_EQ(as_text("note", std::string()), "\"\"");  // an empty text is shown, not lost
}

}  // namespace
}  // namespace sipgw::db
