// A buyer PBX that answers and checks the INVITE's standard headers against
// exact values (SIPp cannot take regexp text from -key, so it is generated).
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace sipgw::integration {

struct BuyerExpectations {
  std::string afid = "pub1";
  std::optional<std::string> sid;  // exact X-PH-RetreaverSID when set
  std::string campaign = "camp1";  // the token-expanded X-Campaign-ID
  std::vector<std::pair<std::string, std::string>> headers{};  // more (header, exact value) the INVITE must carry
};

inline std::string regex_literal(const std::string& s) {
  std::string escaped = std::regex_replace(s, std::regex(R"([.^$|()\[\]{}*+?\\-])"), R"(\$&)");
  // It goes into an XML attribute.
  escaped = std::regex_replace(escaped, std::regex("&"), "&amp;");
  escaped = std::regex_replace(escaped, std::regex("<"), "&lt;");
  escaped = std::regex_replace(escaped, std::regex(">"), "&gt;");
  return std::regex_replace(escaped, std::regex("\""), "&quot;");
}

// answer_headers: "Name: value\n" lines added to the 200.
inline std::string buyer_answer_xml(const BuyerExpectations& e, const std::string& answer_headers = "") {
  auto check = [](const std::string& header, const std::string& regexp, const std::string& var) {
    return "<ereg regexp=\"^ *" + regexp + "$\" search_in=\"hdr\" header=\"" + header +
           ":\" check_it=\"true\" assign_to=\"" + var + "\"/>\n";
  };
  std::string x = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"buyer\">\n<recv request=\"INVITE\"><action>\n";
  x += check("X-PH-RetreaverUUID", "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", "uuid");
  x += check("X-PH-RetreaverKey", "[0-9a-f]{32}", "key");
  x += check("X-PH-RetreaverAFID", regex_literal(e.afid), "afid");
  std::string vars = "uuid,key,afid,campaign,sdp";
  if (e.sid) {
    x += check("X-PH-RetreaverSID", regex_literal(*e.sid), "sid");
    vars += ",sid";
  }
  x += check("X-Campaign-ID", regex_literal(e.campaign), "campaign");
  for (std::size_t i = 0; i < e.headers.size(); ++i) {
    x += check(e.headers[i].first, regex_literal(e.headers[i].second), "extra" + std::to_string(i));
    vars += ",extra" + std::to_string(i);
  }
  x += "<ereg regexp=\"^v=0\" search_in=\"body\" check_it=\"true\" assign_to=\"sdp\"/>\n</action></recv>\n";
  const std::string reply_headers = "[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]b[call_number]\n[last_Call-ID:]\n[last_CSeq:]\n"
                                    "Contact: <sip:buyer@[local_ip]:[local_port]>\n";
  x += "<send><![CDATA[\nSIP/2.0 180 Ringing\n" + reply_headers + "Content-Length: 0\n]]></send>\n";
  x += "<send retrans=\"500\"><![CDATA[\nSIP/2.0 200 OK\n" + reply_headers + answer_headers +
       "Content-Type: application/sdp\nContent-Length: [len]\n\nv=0\no=buyer 1 1 IN IP4 [local_ip]\ns=-\n"
       "c=IN IP4 [local_ip]\nt=0 0\nm=audio 50000 RTP/AVP 0\n]]></send>\n";
  x += "<recv request=\"ACK\"/>\n<Reference variables=\"" + vars + "\"/>\n";
  x += "<recv request=\"BYE\"/>\n<send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n"
       "[last_CSeq:]\nContent-Length: 0\n]]></send>\n</scenario>\n";
  return x;
}

}  // namespace sipgw::integration
