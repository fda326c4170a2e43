#include "gateway/source_guard.h"

#include <spdlog/spdlog.h>

namespace sipgw::gateway {

bool SourceGuard::banned(const routing::Snapshot& snapshot, const auth::IpAddress& source, std::int64_t now_ms) const {
  if (snapshot.ban_for(source, now_ms) != nullptr) return true;
  if (fresh_bans_.empty()) return false;
  auto it = fresh_bans_.find(auth::to_string(source));
  return it != fresh_bans_.end() && it->second.expires_at_ms > now_ms;
}

std::optional<AutoBan> SourceGuard::failed_authentication(const routing::Snapshot& snapshot, const auth::IpAddress& source,
                                                          std::int64_t now_ms, const BanPolicy& policy) {
  if (policy.failures <= 0) return std::nullopt;
  if (snapshot.publisher_for_source(source) != nullptr) return std::nullopt;  // never shadow an allowlist entry
  const std::int64_t window_ms = policy.window.count() * 1000;
  std::string key = auth::to_string(source);
  auto it = failures_.find(key);
  if (it == failures_.end()) {
    if (failures_.size() >= max_sources_) prune(now_ms, window_ms);
    if (failures_.size() >= max_sources_) return std::nullopt;  // full of live windows: follow no new source
    it = failures_.emplace(key, Failures{0, now_ms}).first;
  }
  Failures& f = it->second;
  if (now_ms - f.window_start_ms >= window_ms) f = Failures{0, now_ms};
  if (++f.count < policy.failures) return std::nullopt;
  const int count = f.count;
  failures_.erase(it);
  AutoBan ban{auth::Cidr{source, static_cast<std::uint8_t>(source.family == auth::IpFamily::v4 ? 32 : 128)}, now_ms,
              now_ms + policy.duration.count() * 1000, count, "authentication failures"};
  fresh_bans_[key] = ban;
  return ban;
}

AutoBan SourceGuard::flooding(const auth::IpAddress& source, std::int64_t now_ms, std::chrono::seconds duration,
                              std::string note) {
  AutoBan ban{auth::Cidr{source, static_cast<std::uint8_t>(source.family == auth::IpFamily::v4 ? 32 : 128)}, now_ms,
              now_ms + duration.count() * 1000, 0, std::move(note)};
  fresh_bans_[auth::to_string(source)] = ban;
  return ban;
}

std::vector<auth::Cidr> SourceGuard::bans_in_force(const routing::Snapshot& snapshot, std::int64_t now_ms) const {
  std::vector<auth::Cidr> out;
  snapshot.bans.for_each([&](const auth::Cidr& cidr, const routing::Ban& ban) {
    if (!ban.expires_at || *ban.expires_at > now_ms) out.push_back(cidr);
  });
  for (const auto& [key, ban] : fresh_bans_) {
    if (ban.expires_at_ms > now_ms) out.push_back(ban.cidr);
  }
  return out;
}

void SourceGuard::ban_stored(const AutoBan& ban, std::int64_t stored_at_ms) {
  auto it = fresh_bans_.find(auth::to_string(ban.cidr.network));
  // A newer ban of the same source waits for its own confirmation.
  if (it != fresh_bans_.end() && it->second.created_at_ms == ban.created_at_ms) it->second.stored_at_ms = stored_at_ms;
}

void SourceGuard::snapshot_loaded(const routing::Snapshot& snapshot) {
  std::erase_if(fresh_bans_, [&](const auto& entry) {
    const AutoBan& ban = entry.second;
    const routing::Ban* stored = snapshot.bans.find(ban.cidr.network);
    const bool held = stored != nullptr && stored->automatic && stored->expires_at == ban.expires_at_ms;
    const bool lifted = ban.stored_at_ms != 0 && snapshot.loaded_at_ms > ban.stored_at_ms;
    return held || lifted || ban.expires_at_ms <= snapshot.loaded_at_ms;
  });
}

std::size_t SourceGuard::active_bans(const routing::Snapshot& snapshot, std::int64_t now_ms) const {
  std::size_t n = snapshot.active_ban_count(now_ms);
  for (const auto& [key, ban] : fresh_bans_) n += ban.expires_at_ms > now_ms ? 1 : 0;
  return n;
}

void SourceGuard::prune(std::int64_t now_ms, std::int64_t window_ms) {
  std::erase_if(failures_, [&](const auto& entry) { return now_ms - entry.second.window_start_ms >= window_ms; });
}

}  // namespace sipgw::gateway
