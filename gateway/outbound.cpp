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
                                                                 const routing::CallFacts& facts,
                                                                 const FromHost& gateway_host) {
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
  const std::string caller = facts.caller_number.empty() ? "anonymous" : routing::escape_uri_user(facts.caller_number);
  out.from = "<sip:" + caller + "@" + (from_domain ? *from_domain : gateway_host(out.request_uri)) + ">";
  out.to = "<" + out.request_uri + ">";

  const auto& names = s.settings;
  add_header(out.extra_headers, names.header_uuid, facts.call_uuid);
  add_header(out.extra_headers, names.header_key, facts.postback_key);
  add_header(out.extra_headers, names.header_afid, facts.publisher_id);
  if (!facts.sub_id.empty()) add_header(out.extra_headers, names.header_sid, facts.sub_id);
  // STIR/SHAKEN: the publisher's Identity header passes unchanged (the
  // buyer verifies it), unless this buyer is set to strip it.
  if (buyer.pass_identity && !facts.identity.empty()) add_header(out.extra_headers, "Identity", facts.identity);
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
