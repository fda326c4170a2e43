#include "gateway/outbound.h"

#include "auth/text.h"

#include <openssl/rand.h>
#include <uuid/uuid.h>

#include <vector>

namespace sipgw::gateway {

namespace {

void add_header(std::string& block, const std::string& name, const std::string& value) {
  if (!block.empty()) block += "\r\n";
  block += name;
  block += ": ";
  block += routing::sanitize_header_value(value);
}

}  // namespace

std::expected<OutboundInvite, std::string> build_outbound_invite(const routing::Snapshot& s, const routing::Buyer& buyer,
                                                                 const routing::CallFacts& call_facts,
                                                                 const FromHost& gateway_host) {
  // A buyer not trusted with a private caller's identity expands
  // [caller_number] to "anonymous" (the copy is made only then).
  std::optional<routing::CallFacts> masked;
  if (call_facts.caller_private && !buyer.pass_asserted_identity) {
    masked = call_facts;
    masked->caller_number = "anonymous";
    masked->caller_name.clear();
    masked->caller_known = false;
  }
  const routing::CallFacts& facts = masked ? *masked : call_facts;
  OutboundInvite out;
  std::optional<std::string> from_domain;
  if (buyer.target_kind == routing::TargetKind::pstn) {
    if (!s.trunk) return std::unexpected("buyer " + buyer.id + " has a PSTN target but no trunk is configured");
    out.request_uri = routing::pstn_request_uri(buyer.target, s.trunk->proxy);
    from_domain = s.trunk->from_domain;
    if (s.trunk->auth_user && s.trunk->auth_password) {
      out.credentials = OutboundCredentials{*s.trunk->auth_user, *s.trunk->auth_password};
    }
  } else {
    out.request_uri = routing::expand_tokens(buyer.target, facts, routing::TokenContext::uri);
  }
  // Buyer credentials are only ever the configured ones: never derived from
  // the target URI's user part.
  if (buyer.auth_user && buyer.auth_password) {
    out.credentials = OutboundCredentials{*buyer.auth_user, *buyer.auth_password};
  }
  // The caller as this buyer may see it (RFC 3323/3325): a caller who asked
  // for privacy has an anonymous From for every buyer; a buyer trusted with
  // the identity gets it in P-Asserted-Identity (with Privacy: id, so it
  // keeps it to itself), any other buyer nothing of it, [caller_number]
  // included.
  const bool trusted = buyer.pass_asserted_identity;
  const std::string host = from_domain ? *from_domain : gateway_host(out.request_uri);
  const std::string caller = facts.caller_number.empty() ? "anonymous" : routing::escape_uri_user(facts.caller_number);
  const std::string display = facts.caller_name.empty() ? "" : "\"" + facts.caller_name + "\" ";
  const std::string identity = display + "<sip:" + caller + "@" + host + ">";
  out.from = facts.caller_private ? "\"Anonymous\" <sip:anonymous@anonymous.invalid>" : identity;
  out.to = "<" + out.request_uri + ">";

  const auto& names = s.settings;
  add_header(out.extra_headers, names.header_uuid, facts.call_uuid);
  add_header(out.extra_headers, names.header_key, facts.postback_key);
  add_header(out.extra_headers, names.header_afid, facts.publisher_id);
  if (!facts.sub_id.empty()) add_header(out.extra_headers, names.header_sid, facts.sub_id);
  // STIR/SHAKEN: the publisher's Identity header passes unchanged (the
  // buyer verifies it), unless this buyer is set to strip it.
  if (buyer.pass_identity && !facts.identity.empty()) add_header(out.extra_headers, "Identity", facts.identity);
  if (trusted && facts.caller_known) {
    add_header(out.extra_headers, "P-Asserted-Identity", identity);
    if (facts.caller_private) add_header(out.extra_headers, "Privacy", "id");
  }
  for (const auto& [name, value] : facts.passed_headers) add_header(out.extra_headers, name, value);
  for (const auto& h : buyer.headers) {
    // A header whose tokens expand to nothing (a sub id the publisher did
    // not send) is left out: an empty header says nothing and some PBXes
    // reject it.
    const std::string value = routing::expand_tokens(h.value, facts, routing::TokenContext::header_value);
    if (value.find_first_not_of(" \t") == std::string::npos) continue;
    add_header(out.extra_headers, h.name, value);
  }
  return out;
}

std::expected<OutboundInvite, std::string> build_outbound_invite(const routing::Snapshot& s, const routing::Buyer& buyer,
                                                                 const routing::CallFacts& facts,
                                                                 const std::string& from_host) {
  return build_outbound_invite(s, buyer, facts, FromHost([&from_host](const std::string&) { return from_host; }));
}

std::size_t estimated_invite_size(const OutboundInvite& r, std::size_t body_bytes) {
  constexpr std::size_t kStackHeaders = 420;  // measured on sipgw's INVITEs without buyer headers
  return kStackHeaders + 2 * r.request_uri.size() + r.from.size() + r.to.size() + r.extra_headers.size() + body_bytes;
}

bool over_udp(const OutboundInvite& r) {
  constexpr std::string_view kTcp = ";transport=tcp";
  const std::string_view uri = r.request_uri;
  for (std::size_t at = uri.find(';'); at != std::string_view::npos; at = uri.find(';', at + 1)) {
    if (auth::iequals(uri.substr(at, kTcp.size()), kTcp)) return false;
  }
  return true;
}

std::string new_call_uuid() {
  uuid_t id;
  uuid_generate_random(id);
  char text[37];
  uuid_unparse_lower(id, text);
  return text;
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> data(bytes);
  RAND_bytes(data.data(), static_cast<int>(data.size()));
  return auth::to_hex(data.data(), data.size());
}

std::string new_postback_key() { return random_hex(16); }

}  // namespace sipgw::gateway
