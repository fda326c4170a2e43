#include "routing/headers.h"

#include <gtest/gtest.h>

namespace sipgw::routing {
namespace {

TEST(Headers, ParsesNameAndTrimmedValue) {
  auto h = parse_header_template("X-Campaign-ID:   [campaign_id] ");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "X-Campaign-ID");
  EXPECT_EQ(h->value, "[campaign_id]");
  auto colon_in_value = parse_header_template("X-Url: http://a/b");
  ASSERT_TRUE(colon_in_value);
  EXPECT_EQ(colon_in_value->value, "http://a/b");
}

TEST(Headers, RefusesBadNamesAndValues) {
  EXPECT_FALSE(parse_header_template("no colon"));
  EXPECT_FALSE(parse_header_template(": value"));
  EXPECT_FALSE(parse_header_template("X Bad: v"));
  EXPECT_FALSE(parse_header_template("X-A: a\r\nVia: evil"));
  EXPECT_FALSE(parse_header_template("X-A: a\nb"));
  EXPECT_FALSE(parse_header_template(std::string("X-A: a\0b", 8)));
  EXPECT_FALSE(parse_header_template("X-A: a\x7f"));
  EXPECT_TRUE(parse_header_template("X-A: a\tb"));
}

TEST(Headers, RefusesAnUnknownTokenAndKeepsBracketsThatAreNoToken) {
  auto h = parse_header_template("X-Caller: [caller_id]");
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().find("unknown token [caller_id]; the tokens are [call_uuid]"), std::string::npos) << h.error();
  EXPECT_FALSE(parse_header_template("X-Zip: [header:]"));
  EXPECT_TRUE(parse_header_template("X-Zip: [header:X-Lead-Zip] [Sub_ID]"));
  EXPECT_TRUE(parse_header_template("X-Note: [ok 1] [2001:db8::1] [] [a-b]"));
}

TEST(Headers, RefusesHeadersTheB2buaOwns) {
  for (const char* name : {"Via", "call-id", "i", "From", "To", "CSeq", "Contact", "Content-Length", "Max-Forwards"}) {
    EXPECT_FALSE(parse_header_template(std::string(name) + ": x")) << name;
  }
}

TEST(Headers, SipToken) {
  EXPECT_TRUE(is_sip_token("X-PH-RetreaverUUID"));
  EXPECT_TRUE(is_sip_token("a.b!%*_+`'~"));
  EXPECT_FALSE(is_sip_token(""));
  EXPECT_FALSE(is_sip_token("a:b"));
  EXPECT_FALSE(is_sip_token("a b"));
}

}  // namespace
}  // namespace sipgw::routing
