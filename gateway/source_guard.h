// Who may knock at all. A source is refused when a ban covers it: one in
// the snapshot (table bans: an admin's, or sipgw's own from an earlier run),
// or one sipgw hands out itself after repeated authentication failures from
// that source, kept here until a snapshot holds it. Sources on a publisher's
// allowlist are never banned automatically (their failures are still logged
// and counted); an admin's ban covering them must have been forced past the
// allowlist check in sipgwctl.
//
// Sofia-free; runs on the SIP thread. Memory is bounded: at most
// max_sources addresses are followed at a time, and only addresses that
// answered a challenge of ours can fail authentication (a spoofed source
// never sees the nonce it would need).
#pragma once

#include "auth/cidr.h"
#include "routing/provisioning.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sipgw::gateway {

// The settings security.auth_failures, security.auth_window, security.ban_seconds.
struct BanPolicy {
  int failures = 5;  // within `window` from one source; 0: never ban
  std::chrono::seconds window{60};
  std::chrono::seconds duration{900};
};

// A ban sipgw just handed out, to be stored (so it survives a restart and
// `sipgwctl ban list` shows it).
struct AutoBan {
  auth::Cidr cidr;  // the one address
  std::int64_t created_at_ms;
  std::int64_t expires_at_ms;
  int failures;
  std::string note;  // why, as `sipgwctl ban list` shows it
  std::int64_t stored_at_ms = 0;  // when the Asio side confirmed it in the database (0: not yet)
};

class SourceGuard {
 public:
  explicit SourceGuard(std::size_t max_sources = 65536) : max_sources_(max_sources) {}

  bool banned(const routing::Snapshot& snapshot, const auth::IpAddress& source, std::int64_t now_ms) const;
  // One failed authentication from source (wrong password, unknown user,
  // reused nonce count); the ban it triggers, if any.
  std::optional<AutoBan> failed_authentication(const routing::Snapshot& snapshot, const auth::IpAddress& source,
                                               std::int64_t now_ms, const BanPolicy& policy);
  // The source was refused for flooding: banned for `duration` (never a
  // source on an allowlist; the caller does not limit those).
  AutoBan flooding(const auth::IpAddress& source, std::int64_t now_ms, std::chrono::seconds duration,
                   std::string note = "request flood");
  // Every ban in force now, the snapshot's and this memory's: what the
  // kernel drops (drop_filter.h).
  std::vector<auth::Cidr> bans_in_force(const routing::Snapshot& snapshot, std::int64_t now_ms) const;
  // The database holds this ban since stored_at_ms (the Asio side says so).
  void ban_stored(const AutoBan& ban, std::int64_t stored_at_ms);
  // A new snapshot is in use: the bans it holds leave this memory, and so do
  // those it lacks though it was read after they were stored (an admin
  // lifted them) and those that ran out. A ban not yet stored stays,
  // however slow the write: a snapshot read before it says nothing of it.
  void snapshot_loaded(const routing::Snapshot& snapshot);
  // Bans in force: the snapshot's and this memory's.
  std::size_t active_bans(const routing::Snapshot& snapshot, std::int64_t now_ms) const;
  std::size_t followed_sources() const { return failures_.size(); }

 private:
  struct Failures {
    int count = 0;
    std::int64_t window_start_ms = 0;
  };
  void prune(std::int64_t now_ms, std::int64_t window_ms);

  std::size_t max_sources_;
  std::unordered_map<std::string, Failures> failures_;  // by address text
  std::unordered_map<std::string, AutoBan> fresh_bans_;  // not yet in a snapshot
};

}  // namespace sipgw::gateway
