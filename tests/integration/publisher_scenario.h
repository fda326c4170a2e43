// Builds SIPp publisher scenarios for the integration tests: SIPp takes
// neither status codes nor [authentication] parameters from -key, so the
// flows are generated here from a small plan.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sipgw::integration {

struct PublisherPlan {
  std::string number = "+18882223333";
  std::string domain = "ip.test";
  std::optional<std::string> digest_password;  // answer a 407 with user alice
  int expect = 200;                            // final status expected for the INVITE
  bool cancel_after_ringing = false;           // send CANCEL after 180, expect 487
  bool buyer_hangs_up = false;                 // after ACK, wait for the buyer's BYE
  std::string sub_id;                          // X-Sub-ID when not empty
  bool expect_retry_after = false;             // check a Retry-After on the final response
  std::string extra_headers;                   // "Name: value\n" lines added to the INVITE
  // (header, regexp) pairs the final response must match (the whole value).
  std::vector<std::pair<std::string, std::string>> check_headers;
  // A regexp no 18x or final response may match anywhere (topology hiding).
  std::string must_not_see;
  // A 503 with Retry-After instead of the answer is fine too (overload
  // control): ACKed, and the call ends there.
  bool may_be_refused = false;
  std::string caller = "+15551230000";  // the From user
  // Other final statuses accepted instead of `expect` (not 200): ACKed alike.
  std::vector<int> or_expect;
};

inline std::string publisher_xml(const PublisherPlan& p) {
  const std::string from = "From: <sip:" + p.caller + "@[local_ip]>;tag=[call_number]\n";
  const std::string common = "To: <sip:" + p.number + "@" + p.domain + ">\nCall-ID: [call_id]\nMax-Forwards: 70\n";
  const std::string sub = (p.sub_id.empty() ? "" : "X-Sub-ID: " + p.sub_id + "\n") + p.extra_headers;
  const std::string sdp =
      "Content-Type: application/sdp\nContent-Length: [len]\n\nv=0\no=pub 1 1 IN IP4 [local_ip]\ns=-\n"
      "c=IN IP4 [local_ip]\nt=0 0\nm=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";
  auto invite = [&](int cseq, const std::string& branch, const std::string& extra) {
    return "<send retrans=\"500\"><![CDATA[\nINVITE sip:" + p.number + "@" + p.domain +
           " SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=" + branch + "\n" + from + common +
           "CSeq: " + std::to_string(cseq) + " INVITE\nContact: <sip:+15551230000@[local_ip]:[local_port];transport=[transport]>\n" + sub + extra +
           sdp + "]]></send>\n";
  };
  std::string checks, check_vars = p.must_not_see.empty() ? "" : "unseen";
  for (std::size_t i = 0; i < p.check_headers.size(); ++i) {
    const auto& [header, regexp] = p.check_headers[i];
    const std::string var = "checked" + std::to_string(i);
    checks += "<ereg regexp=\"^ *" + regexp + "$\" search_in=\"hdr\" header=\"" + header + ":\" check_it=\"true\" assign_to=\"" +
              var + "\"/>";
    check_vars += (check_vars.empty() ? "" : ",") + var;
  }
  const std::string unseen = p.must_not_see.empty() ? "" :
      "<ereg regexp=\"" + p.must_not_see + "\" search_in=\"msg\" check_it_inverse=\"true\" assign_to=\"unseen\"/>";
  auto provisional = [&](int status) {
    return "<recv response=\"" + std::to_string(status) + "\" optional=\"true\">" +
           (unseen.empty() ? "" : "<action>" + unseen + "</action>") + "</recv>\n";
  };
  auto final_response = [&](int status, const std::string& attributes, std::string actions) {
    actions += checks + unseen;
    return "<recv response=\"" + std::to_string(status) + "\"" + attributes + ">" +
           (actions.empty() ? "" : "<action>" + actions + "</action>") + "</recv>\n";
  };
  auto ack_non2xx = [&](int cseq, const std::string& branch) {
    return "<send><![CDATA[\nACK sip:" + p.number + "@" + p.domain + " SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=" +
           branch + "\n" + from + "[last_To:]\nCall-ID: [call_id]\nCSeq: " + std::to_string(cseq) +
           " ACK\nMax-Forwards: 70\nContent-Length: 0\n]]></send>\n";
  };
  std::string x = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"publisher\">\n";
  int cseq = 1;
  std::string branch = "z9hG4bK-[pid]-[call_number]-1";
  x += invite(cseq, branch, "");
  if (p.digest_password) {
    x += "<recv response=\"100\" optional=\"true\"/>\n<recv response=\"407\" auth=\"true\"/>\n";
    x += ack_non2xx(cseq, branch);
    cseq = 2;
    branch = "z9hG4bK-[pid]-[call_number]-2";
    x += invite(cseq, branch, "[authentication username=alice password=" + *p.digest_password + "]\n");
  }
  x += "<recv response=\"100\" optional=\"true\"/>\n";
  if (p.cancel_after_ringing) {
    x += "<recv response=\"180\"/>\n";
    x += "<send><![CDATA[\nCANCEL sip:" + p.number + "@" + p.domain + " SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=" +
         branch + "\n" + from + common + "CSeq: " + std::to_string(cseq) + " CANCEL\nContent-Length: 0\n]]></send>\n";
    x += "<recv response=\"200\"/>\n<recv response=\"487\"/>\n" + ack_non2xx(cseq, branch);
  } else if (p.expect != 200) {
    x += "<recv response=\"180\" optional=\"true\"/>\n<recv response=\"183\" optional=\"true\"/>\n";
    for (int other : p.or_expect) {
      x += "<recv response=\"" + std::to_string(other) + "\" optional=\"true\" next=\"other_final\"/>\n";
    }
    x += final_response(p.expect, "",
                        p.expect_retry_after ? "<ereg regexp=\"[0-9]+\" search_in=\"hdr\" header=\"Retry-After:\" "
                                               "check_it=\"true\" assign_to=\"ra\"/>"
                                             : "");
    if (!p.or_expect.empty()) x += "<label id=\"other_final\"/>\n";
    x += ack_non2xx(cseq, branch);
    if (p.expect_retry_after) x += "<Reference variables=\"ra\"/>\n";
    if (!check_vars.empty()) x += "<Reference variables=\"" + check_vars + "\"/>\n";
  } else {
    x += provisional(180) + provisional(183);
    if (p.may_be_refused) x += "<recv response=\"503\" optional=\"true\" next=\"refused\"/>\n";
    x += final_response(200, " rrs=\"true\"", "");
    x += "<send><![CDATA[\nACK [next_url] SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n" + from +
         "[last_To:]\nCall-ID: [call_id]\nCSeq: " + std::to_string(cseq) + " ACK\n[routes]\nMax-Forwards: 70\nContent-Length: 0\n]]></send>\n";
    if (!check_vars.empty()) x += "<Reference variables=\"" + check_vars + "\"/>\n";
    if (p.buyer_hangs_up) {
      x += "<recv request=\"BYE\"/>\n<send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n"
           "[last_CSeq:]\nContent-Length: 0\n]]></send>\n";
    } else {
      x += "<pause/>\n";
      x += "<send retrans=\"500\"><![CDATA[\nBYE [next_url] SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n" +
           from + "[last_To:]\nCall-ID: [call_id]\nCSeq: " + std::to_string(cseq + 1) +
           " BYE\n[routes]\nMax-Forwards: 70\nContent-Length: 0\n]]></send>\n<recv response=\"200\" crlf=\"true\"/>\n";
    }
  }
  if (p.may_be_refused && p.expect == 200 && !p.cancel_after_ringing) {
    x += "<nop next=\"done\"/>\n<label id=\"refused\"/>\n";
    x += ack_non2xx(cseq, branch);
    x += "<label id=\"done\"/>\n";
  }
  x += "</scenario>\n";
  // SIPp wants CRLF-free scenario text with leading newlines stripped per line.
  return x;
}

}  // namespace sipgw::integration
