#include "gateway/admission.h"

#include "auth/digest.h"
#include "auth/e164.h"

#include <algorithm>
#include <charconv>

namespace sipgw::gateway {

namespace {

using routing::AuthMode;

enum class DigestOutcome { accepted, challenge, stale, rejected_credentials };

struct DigestResult {
  DigestOutcome outcome;
  std::string publisher_id;
  std::string detail{};  // which check refused it, for the log (never a secret)
};

// The answer to a nonce of ours that is fresh and unspent.
DigestResult judge_answer(const routing::Snapshot& s, const InboundInvite& invite, const DigestCredentials& c,
                          auth::DigestAlgorithm algorithm, DigestState& digest, std::int64_t now) {
  const auto lifetime = s.settings.nonce_lifetime_seconds;
  // We challenge with qop="auth"; answers without it are weaker (no nc, so
  // no replay check) and are refused.
  if (c.qop != "auth" || c.nc.size() != 8 || c.cnonce.empty()) {
    return {DigestOutcome::rejected_credentials, {}, "answer without qop=auth, nc or cnonce"};
  }
  // The digest must cover the Request-URI actually sent, or a captured
  // answer could be replayed toward another number. The comparison is on
  // the URI as Sofia prints both (so "%2B" and "+" name one number); the
  // hash is over the uri exactly as the client wrote it (RFC 7616 3.4.6).
  if (c.uri != invite.request_uri) {
    return {DigestOutcome::rejected_credentials, {}, "digest uri " + c.uri + " is not the Request-URI " + invite.request_uri};
  }
  const routing::Credential* credential = s.find_credential(c.username, c.realm);
  if (credential == nullptr) return {DigestOutcome::rejected_credentials, {}, "unknown username " + c.username};
  auto expected = auth::digest_response(algorithm, credential->ha1(algorithm),
                                        {invite.method, c.uri_as_sent, c.nonce, c.nc, c.cnonce, c.qop});
  if (!auth::constant_time_equal(expected, c.response)) {
    return {DigestOutcome::rejected_credentials, {}, "wrong response for username " + c.username};
  }
  std::uint32_t nc = 0;
  auto [end, ec] = std::from_chars(c.nc.data(), c.nc.data() + c.nc.size(), nc, 16);
  if (ec != std::errc{} || end != c.nc.data() + c.nc.size()) return {DigestOutcome::rejected_credentials, {}, "bad nc"};
  // A nonce count not above the last one: a replayed answer, or a client
  // whose count went wrong. RFC 7616 3.4 treats it as a stale nonce: a
  // fresh challenge with stale=true, which a real client answers at once
  // without asking its user again; a replayer gets nothing from it.
  if (!digest.counts.accept(c.nonce, nc, now, lifetime)) return {DigestOutcome::stale, {}, "nonce count not above the last"};
  return {DigestOutcome::accepted, credential->publisher_id};
}

DigestResult check_digest(const routing::Snapshot& s, const routing::Domain& domain, const InboundInvite& invite,
                          DigestState& digest, std::int64_t now) {
  const auto lifetime = s.settings.nonce_lifetime_seconds;
  // Only credentials for our realm count; a client may carry others.
  auto it = std::find_if(invite.credentials.begin(), invite.credentials.end(),
                         [&](const DigestCredentials& c) { return c.realm == domain.realm; });
  if (it == invite.credentials.end()) return {DigestOutcome::challenge, {}};
  const DigestCredentials& c = *it;

  auto algorithm = c.algorithm.empty() ? std::optional(auth::DigestAlgorithm::md5) : auth::parse_digest_algorithm(c.algorithm);
  if (!algorithm || std::find(domain.algorithms.begin(), domain.algorithms.end(), *algorithm) == domain.algorithms.end()) {
    return {DigestOutcome::challenge, {}};
  }
  switch (digest.issuer.verify(c.nonce, domain.realm, now, lifetime)) {
    case auth::NonceVerdict::invalid: return {DigestOutcome::challenge, {}};  // e.g. from before a restart
    case auth::NonceVerdict::stale: return {DigestOutcome::stale, {}};
    case auth::NonceVerdict::valid: break;
  }
  // One guess per nonce: after a wrong answer the nonce is spent and the
  // next try is challenged afresh, so a brute force costs a round trip (and
  // a nonce sipgw issued) per guess instead of one packet.
  if (digest.counts.spent(c.nonce)) return {DigestOutcome::challenge, {}};
  auto result = judge_answer(s, invite, c, *algorithm, digest, now);
  if (result.outcome == DigestOutcome::rejected_credentials) digest.counts.spend(c.nonce, now, lifetime);
  return result;
}

}  // namespace

std::string_view to_string(RejectReason reason) {
  switch (reason) {
    case RejectReason::draining: return "draining";
    case RejectReason::too_many_hops: return "too_many_hops";
    case RejectReason::unknown_domain: return "unknown_domain";
    case RejectReason::ip_not_allowed: return "ip_not_allowed";
    case RejectReason::bad_credentials: return "bad_credentials";
    case RejectReason::publisher_disabled: return "publisher_disabled";
    case RejectReason::not_e164: return "not_e164";
    case RejectReason::unknown_number: return "unknown_number";
    case RejectReason::number_disabled: return "number_disabled";
    case RejectReason::number_restricted: return "number_restricted";
    case RejectReason::publisher_at_cap: return "publisher_at_cap";
  }
  return "unknown";
}

bool is_auth_failure(RejectReason reason) {
  return reason == RejectReason::ip_not_allowed || reason == RejectReason::bad_credentials ||
         reason == RejectReason::publisher_disabled;
}

auth::IpAddress publisher_address(const routing::Snapshot& s, const InboundInvite& invite) {
  if (invite.forwarded_source.empty()) return invite.source;
  const auto& trusted = s.settings.front_end_addresses;
  bool from_front_end = std::any_of(trusted.begin(), trusted.end(),
                                    [&](const auth::Cidr& c) { return auth::contains(c, invite.source); });
  if (!from_front_end) return invite.source;  // a forged header from anyone else changes nothing
  auto named = auth::parse_ip(invite.forwarded_source);
  return named ? *named : invite.source;
}

Decision admit(const routing::Snapshot& s, const InboundInvite& invite, DigestState& digest, std::int64_t now,
               const Door& door) {
  // Refused before any state exists: a draining gateway, a looping request.
  if (door.draining) {
    return Rejected{503, "Service Unavailable (Draining)", RejectReason::draining, {}, door.retry_after_seconds};
  }
  if (invite.max_forwards.value_or(70) <= 1) return Rejected{483, "Too Many Hops", RejectReason::too_many_hops};
  const routing::Domain* domain = s.find_domain(invite.request_host);
  // Refusals before authentication all read "403 Forbidden": which domain,
  // source or username was wrong goes to the log, never to the caller.
  if (domain == nullptr) return Rejected{403, "Forbidden", RejectReason::unknown_domain};

  std::string publisher_id;
  const std::string* allowed =
      domain->auth_mode == AuthMode::digest ? nullptr : s.publisher_for_source(publisher_address(s, invite));
  if (allowed != nullptr) {
    publisher_id = *allowed;
  } else if (domain->auth_mode == AuthMode::ip) {
    return Rejected{403, "Forbidden", RejectReason::ip_not_allowed};
  } else {
    auto result = check_digest(s, *domain, invite, digest, now);
    switch (result.outcome) {
      case DigestOutcome::challenge: return Challenge{domain->realm, domain->algorithms, false};
      case DigestOutcome::stale: return Challenge{domain->realm, domain->algorithms, true};
      case DigestOutcome::rejected_credentials:
        return Rejected{403, "Forbidden", RejectReason::bad_credentials, result.detail};
      case DigestOutcome::accepted: publisher_id = result.publisher_id; break;
    }
  }

  const routing::Publisher* publisher = s.find_publisher(publisher_id);
  if (publisher == nullptr || !publisher->enabled) return Rejected{403, "Forbidden (Publisher Disabled)", RejectReason::publisher_disabled};
  if (!auth::is_e164(invite.request_user)) return Rejected{484, "Address Incomplete (Not E.164)", RejectReason::not_e164};
  const routing::Number* number = s.find_number(invite.request_user);
  if (number == nullptr) return Rejected{404, "Not Found (Unknown Number)", RejectReason::unknown_number};
  if (!number->enabled) return Rejected{404, "Not Found (Number Disabled)", RejectReason::number_disabled};
  if (number->publisher_id && *number->publisher_id != publisher_id) {
    return Rejected{403, "Forbidden (Number Restricted)", RejectReason::number_restricted};
  }
  const routing::Campaign* campaign = s.find_campaign(number->campaign_id);
  if (campaign == nullptr) return Rejected{404, "Not Found (No Campaign)", RejectReason::unknown_number};
  if (publisher->concurrency_cap && door.publisher_calls && door.publisher_calls(publisher_id) >= *publisher->concurrency_cap) {
    return Rejected{486, "Busy Here (Publisher Concurrency Cap)", RejectReason::publisher_at_cap};
  }
  return Admitted{publisher_id, number, campaign, domain};
}

std::vector<std::string> challenge_headers(const Challenge& c, DigestState& digest, std::int64_t now) {
  std::vector<std::string> out;
  const std::string nonce = digest.issuer.issue(c.realm, now);
  for (auto algorithm : c.algorithms) {
    std::string h = "Digest realm=\"" + c.realm + "\", nonce=\"" + nonce + "\", algorithm=" +
                    std::string(auth::to_string(algorithm)) + ", qop=\"auth\"";
    if (c.stale) h += ", stale=true";
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace sipgw::gateway
