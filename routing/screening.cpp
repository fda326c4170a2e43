#include "routing/screening.h"

#include "auth/text.h"
#include "routing/provisioning.h"
#include "routing/selection.h"

#include <algorithm>

namespace sipgw::routing {

std::string_view to_string(ScreenReason reason) {
  switch (reason) {
    case ScreenReason::blocked_number: return "blocked_number";
    case ScreenReason::anonymous: return "anonymous";
    case ScreenReason::repeat_caller: return "repeat_caller";
    case ScreenReason::attestation: return "attestation";
    case ScreenReason::publisher_cap: return "publisher_cap";
    case ScreenReason::publisher_rate: return "publisher_rate";
  }
  return "unknown";
}

std::string_view to_string(RepeatAfter after) {
  switch (after) {
    case RepeatAfter::inbound: return "inbound";
    case RepeatAfter::connected: return "connected";
    case RepeatAfter::converted: return "converted";
  }
  return "inbound";
}

std::optional<RepeatAfter> parse_repeat_after(std::string_view text) {
  if (text == "inbound") return RepeatAfter::inbound;
  if (text == "connected") return RepeatAfter::connected;
  if (text == "converted") return RepeatAfter::converted;
  return std::nullopt;
}

// ---- block lists ----

std::string BlockEntry::text() const {
  if (kind == Kind::anonymous) return "anonymous";
  std::string digits = std::to_string(number.digits);
  if (digits.size() < number.length) digits.insert(0, number.length - digits.size(), '0');
  return "+" + digits + (kind == Kind::prefix ? "*" : "");
}

std::expected<BlockEntry, std::string> parse_block_entry(std::string_view text) {
  const std::string_view original = text;
  text = auth::trim(text);
  if (auth::iequals(text, "anonymous")) return BlockEntry{BlockEntry::Kind::anonymous, {}};
  BlockEntry entry;
  if (!text.empty() && text.back() == '*') {
    entry.kind = BlockEntry::Kind::prefix;
    text.remove_suffix(1);
  }
  const auto refuse = [&] {
    return std::unexpected("'" + std::string(original.substr(0, 40)) +
                           "' is not a block entry (anonymous, +E164, or +DIGITS* for a prefix)");
  };
  if (text.size() < 2 || text.front() != '+') return refuse();
  auto number = auth::parse_caller_number(text);
  if (!number) return refuse();
  entry.number = *number;
  return entry;
}

void BlockList::add(const std::string& campaign_id, const BlockEntry& entry) {
  Scope& scope = campaign_id.empty() ? global_ : campaigns_[campaign_id];
  bool added = false;
  switch (entry.kind) {
    case BlockEntry::Kind::anonymous:
      added = !scope.anonymous;
      scope.anonymous = true;
      break;
    case BlockEntry::Kind::number: added = scope.numbers.insert(auth::key_of(entry.number)).second; break;
    case BlockEntry::Kind::prefix:
      added = scope.prefixes.insert(auth::key_of(entry.number)).second;
      scope.prefix_lengths |= static_cast<std::uint16_t>(1u << entry.number.length);
      break;
  }
  if (added) ++size_;
}

std::optional<ScreenReason> BlockList::match(const Scope& scope, const std::optional<auth::CallerNumber>& caller) {
  if (!caller) {
    if (scope.anonymous) return ScreenReason::anonymous;
    return std::nullopt;
  }
  if (!scope.numbers.empty() && scope.numbers.count(auth::key_of(*caller))) return ScreenReason::blocked_number;
  if (scope.prefix_lengths == 0) return std::nullopt;
  // The caller's leading n digits, for each prefix length n in use.
  std::uint64_t divisor = 1;
  for (unsigned n = caller->length; n >= 1; --n) {
    if (scope.prefix_lengths & (1u << n)) {
      const auth::CallerNumber prefix{caller->digits / divisor, static_cast<std::uint8_t>(n)};
      if (scope.prefixes.count(auth::key_of(prefix))) return ScreenReason::blocked_number;
    }
    divisor *= 10;
  }
  return std::nullopt;
}

std::optional<ScreenReason> BlockList::match(std::string_view campaign_id,
                                             const std::optional<auth::CallerNumber>& caller) const {
  if (auto reason = match(global_, caller)) return reason;
  if (campaigns_.empty()) return std::nullopt;
  auto it = campaigns_.find(campaign_id);
  if (it == campaigns_.end()) return std::nullopt;
  return match(it->second, caller);
}

// ---- caller history ----

void CallerHistory::seen(const std::string& campaign_id, const auth::CallerNumber& caller, std::int64_t at_ms) {
  Key key{campaign_id, auth::key_of(caller)};
  auto [it, inserted] = last_.try_emplace(key, at_ms);
  if (!inserted) {
    if (it->second >= at_ms) return;  // restored records may come out of order
    it->second = at_ms;
  }
  order_.emplace_back(at_ms, std::move(key));
  if (order_.size() > 2 * capacity_ + 1024) compact();
  while (last_.size() > capacity_ && !order_.empty()) {
    auto& [when, oldest] = order_.front();
    auto found = last_.find(oldest);
    if (found != last_.end() && found->second == when) last_.erase(found);
    order_.pop_front();
  }
}

// A caller seen again leaves its older pair in order_; when those pile up
// (one caller calling over and over), order_ is rebuilt from last_.
void CallerHistory::compact() {
  std::vector<std::pair<std::int64_t, Key>> live;
  live.reserve(last_.size());
  for (const auto& [key, when] : last_) live.emplace_back(when, key);
  std::sort(live.begin(), live.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  order_.assign(std::make_move_iterator(live.begin()), std::make_move_iterator(live.end()));
}

std::optional<std::int64_t> CallerHistory::last_seen(const std::string& campaign_id,
                                                     const auth::CallerNumber& caller) const {
  if (last_.empty()) return std::nullopt;
  auto it = last_.find(Key{campaign_id, auth::key_of(caller)});
  if (it == last_.end()) return std::nullopt;
  return it->second;
}

void CallerHistory::prune(std::int64_t now_ms, std::int64_t max_age_ms) {
  // order_ is in arrival order, which is time order except for restored
  // records; a late one merely waits for those before it.
  while (!order_.empty() && order_.front().first < now_ms - max_age_ms) {
    auto& [when, key] = order_.front();
    auto found = last_.find(key);
    if (found != last_.end() && found->second == when) last_.erase(found);
    order_.pop_front();
  }
}

// ---- publisher rates ----

bool PublisherRates::admit(const std::string& publisher_id, std::int64_t cps, std::int64_t now_ms) {
  auto [it, fresh] = buckets_.try_emplace(publisher_id);
  Bucket& b = it->second;
  const double capacity = static_cast<double>(cps);
  if (fresh) {
    b.tokens = capacity;
  } else {
    b.tokens = std::min(capacity, b.tokens + capacity * static_cast<double>(std::max<std::int64_t>(0, now_ms - b.at_ms)) / 1000.0);
  }
  b.at_ms = now_ms;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

// ---- the screener ----

namespace {

const char* phrase(ScreenReason reason) {
  switch (reason) {
    case ScreenReason::blocked_number: return "Blocked Number";
    case ScreenReason::anonymous: return "Anonymous Caller Blocked";
    case ScreenReason::repeat_caller: return "Repeat Caller";
    case ScreenReason::attestation: return "Attestation Below Minimum";
    case ScreenReason::publisher_cap: return "Busy Here (Publisher Cap)";
    case ScreenReason::publisher_rate: return "Service Unavailable (Publisher Rate)";
  }
  return "Declined";
}

Screened refuse(ScreenReason reason, std::int64_t status) { return {reason, static_cast<int>(status), phrase(reason)}; }

}  // namespace

std::variant<Cleared, Screened> Screener::screen(const ScreenRequest& r) {
  const Publisher& p = r.publisher;
  const Settings& settings = r.snapshot.settings;
  if (p.cps && !rates_.admit(p.id, *p.cps, r.now_ms)) {
    Screened s = refuse(ScreenReason::publisher_rate, 503);
    s.retry_after = 1;
    return s;
  }
  if (p.hourly_cap || p.daily_cap) {
    const TimePoint now{std::chrono::milliseconds(r.now_ms)};
    if ((p.hourly_cap && ledger_.publisher_connected_this_hour(p.id, now) >= *p.hourly_cap) ||
        (p.daily_cap && ledger_.publisher_connected_today(p.id, now) >= *p.daily_cap)) {
      return refuse(ScreenReason::publisher_cap, 486);
    }
  }
  if (auto blocked = r.snapshot.blocks.match(r.campaign.id, r.caller.usable)) {
    return refuse(*blocked, settings.blocked_status);
  }
  const CampaignScreening& rules = r.campaign.screening;
  if (r.attestation < rules.min_attestation) return refuse(ScreenReason::attestation, settings.attestation_status);
  if (rules.repeat_window_seconds && r.caller.usable) {
    auto last = history_.last_seen(r.campaign.id, *r.caller.usable);
    if (last && r.now_ms - *last < *rules.repeat_window_seconds * 1000) {
      if (rules.repeat_route) return Cleared{rules.repeat_route};
      return refuse(ScreenReason::repeat_caller, settings.repeat_status);
    }
  }
  return Cleared{};
}

void Screener::admitted(const Campaign& campaign, const auth::Caller& caller, std::int64_t now_ms) {
  const CampaignScreening& rules = campaign.screening;
  if (!rules.repeat_window_seconds || rules.repeat_after != RepeatAfter::inbound || !caller.usable) return;
  history_.seen(campaign.id, *caller.usable, now_ms);
}

void Screener::connected(const Campaign& campaign, const std::string& caller_number, std::int64_t answer_ms) {
  const CampaignScreening& rules = campaign.screening;
  if (!rules.repeat_window_seconds || rules.repeat_after != RepeatAfter::connected) return;
  if (auto number = auth::parse_caller_number(caller_number)) history_.seen(campaign.id, *number, answer_ms);
}

void Screener::converted(const Campaign& campaign, const std::string& caller_number, std::int64_t converted_ms) {
  const CampaignScreening& rules = campaign.screening;
  if (!rules.repeat_window_seconds || rules.repeat_after != RepeatAfter::converted) return;
  if (auto number = auth::parse_caller_number(caller_number)) history_.seen(campaign.id, *number, converted_ms);
}

void Screener::restore(const Campaign& campaign, const std::string& caller_number, std::int64_t invite_ms,
                       std::optional<std::int64_t> answer_ms, std::optional<std::int64_t> converted_ms) {
  const CampaignScreening& rules = campaign.screening;
  if (!rules.repeat_window_seconds) return;
  auto number = auth::parse_caller_number(caller_number);
  if (!number) return;
  if (rules.repeat_after == RepeatAfter::inbound) {
    history_.seen(campaign.id, *number, invite_ms);
  } else if (rules.repeat_after == RepeatAfter::connected && answer_ms) {
    history_.seen(campaign.id, *number, *answer_ms);
  } else if (rules.repeat_after == RepeatAfter::converted && converted_ms) {
    history_.seen(campaign.id, *number, *converted_ms);
  }
}

void Screener::prune(const Snapshot& snapshot, std::int64_t now_ms) {
  std::int64_t longest = 0;
  for (const auto& [id, campaign] : snapshot.campaigns) {
    longest = std::max(longest, campaign.screening.repeat_window_seconds.value_or(0));
  }
  history_.set_capacity(static_cast<std::size_t>(snapshot.settings.repeat_history_max));
  history_.prune(now_ms, longest * 1000);
}

}  // namespace sipgw::routing
