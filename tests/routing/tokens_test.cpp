#include "routing/tokens.h"

#include <gtest/gtest.h>

namespace sipgw::routing {
namespace {

CallFacts facts() {
  return {"uuid-1", "key-1", "pub1", "sub 7", "camp1", "buyer1", "+18882223333", "+15551230000"};
}

TEST(Tokens, ExpandsEveryKnownToken) {
  auto out = expand_tokens(
      "[call_uuid]|[postback_key]|[publisher_id]|[sub_id]|[campaign_id]|[buyer_id]|[number]|[caller_number]", facts(),
      TokenContext::header_value);
  EXPECT_EQ(out, "uuid-1|key-1|pub1|sub 7|camp1|buyer1|+18882223333|+15551230000");
}

TEST(Tokens, ScreeningFactsAndInboundHeaders) {
  auto f = facts();
  f.attestation = "B";
  f.verstat = "TN-Validation-Passed";
  f.inbound_headers = {{"X-Zip", "90210"}, {"X-State", ""}};
  EXPECT_EQ(expand_tokens("[attestation]/[verstat]/[header:x-zip]/[header:X-State]/[header:X-Other]", f,
                          TokenContext::header_value),
            "B/TN-Validation-Passed/90210//[header:X-Other]");
  f.inbound_headers = {{"X-Zip", "9 0@2;1"}};
  EXPECT_EQ(expand_tokens("sip:[header:X-Zip]@h", f, TokenContext::uri), "sip:9%200%402%3B1@h");
  f.inbound_headers = {{"X-Zip", "1\r\nVia: evil"}};
  auto out = expand_tokens("Z=[header:X-Zip]", f, TokenContext::header_value);
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_EQ(out.find('\n'), std::string::npos);
}

TEST(Tokens, UrlAndJsonContexts) {
  auto f = facts();
  f.sub_id = "a b&c=d/\"e\\";
  EXPECT_EQ(expand_tokens("?s=[sub_id]&n=[number]", f, TokenContext::url), "?s=a%20b%26c%3Dd%2F%22e%5C&n=%2B18882223333");
  EXPECT_EQ(expand_tokens(R"({"s":"[sub_id]"})", f, TokenContext::json), R"({"s":"a b&c=d/\"e\\"})");
  f.sub_id = "x\ny";
  EXPECT_EQ(expand_tokens(R"({"s":"[sub_id]"})", f, TokenContext::json), R"({"s":"xy"})");
}

TEST(Tokens, UnknownTokensAndStrayBracketsStay) {
  EXPECT_EQ(expand_tokens("[nope] [number] [", facts(), TokenContext::header_value), "[nope] +18882223333 [");
  EXPECT_EQ(expand_tokens("a]b", facts(), TokenContext::header_value), "a]b");
}

TEST(Tokens, HeaderValuesCannotCarryCrLf) {
  auto f = facts();
  f.sub_id = "x\r\nVia: SIP/2.0/UDP evil";
  auto out = expand_tokens("S=[sub_id]", f, TokenContext::header_value);
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_EQ(out, "S=xVia: SIP/2.0/UDP evil");
}

TEST(Tokens, UriValuesAreEscaped) {
  auto f = facts();
  f.caller_number = "a@b;c=d>";
  EXPECT_EQ(expand_tokens("sip:[number]@pbx.example.com", f, TokenContext::uri), "sip:+18882223333@pbx.example.com");
  EXPECT_EQ(expand_tokens("sip:[caller_number]@h", f, TokenContext::uri), "sip:a%40b%3Bc%3Dd%3E@h");
}

TEST(TextFromWire, KeepsValidUtf8AndReplacesEachBrokenByte) {
  EXPECT_EQ(text_from_wire("+15551230000", 128), "+15551230000");
  EXPECT_EQ(text_from_wire("J\xc3\xbcrgen \xe2\x82\xac", 128), "J\xc3\xbcrgen \xe2\x82\xac");  // Jürgen €
  EXPECT_EQ(text_from_wire("a\xff\xfe" "b", 128), "a??b");
  EXPECT_EQ(text_from_wire("\xc3", 128), "?");                 // truncated sequence
  EXPECT_EQ(text_from_wire("\xc0\xaf", 128), "??");           // overlong '/'
  EXPECT_EQ(text_from_wire("\xed\xa0\x80", 128), "???");     // a UTF-16 surrogate
  EXPECT_EQ(text_from_wire("\xf4\x90\x80\x80", 128), "????");  // above U+10FFFF
}

TEST(TextFromWire, DropsControlCharactersAndCutsOnACharacterBoundary) {
  EXPECT_EQ(text_from_wire(std::string("a\r\nX-Evil: 1\0\x7f\tb", 16), 128), "aX-Evil: 1b");
  EXPECT_EQ(text_from_wire("x\xc2\x85y", 128), "xy");  // C1 NEL
  EXPECT_EQ(text_from_wire("ab\xe2\x82\xac", 4), "ab");   // the euro sign would not fit whole
  EXPECT_EQ(text_from_wire(std::string(1000, 'x'), 128).size(), 128u);
}

}  // namespace
}  // namespace sipgw::routing
