// Admin: call screening: block lists and a campaign's screening rules.
#include "db/admin.h"
#include "db/admin_support.h"

#include "auth/caller_identity.h"
#include "auth/text.h"
#include "routing/screening.h"

#include <istream>

namespace sipgw::db {

using namespace support;

namespace {

// '' is the global list's campaign.
std::string scope_of(const std::optional<std::string>& campaign_id) { return campaign_id.value_or(""); }

std::string scope_words(const std::optional<std::string>& campaign_id) {
  return campaign_id ? "campaign '" + *campaign_id + "'" : "the global block list";
}

AdminResult<void> require_campaign(Connection& db, const std::optional<std::string>& campaign_id) {
  if (!campaign_id) return {};
  return require(db, "campaign", "campaigns", *campaign_id);
}

AdminResult<routing::BlockEntry> parse_entry(std::string_view text) {
  auto entry = routing::parse_block_entry(text);
  if (!entry) return std::unexpected(invalid(entry.error()));
  return *entry;
}

}  // namespace

AdminResult<void> check_screening(const ScreeningChanges& s) {
  if (s.repeat_window && *s.repeat_window) {
    if (auto ok = check_range("repeat window", **s.repeat_window, 1, 366LL * 86400, "seconds"); !ok) return ok;
  }
  if (s.repeat_after && !routing::parse_repeat_after(*s.repeat_after)) {
    return std::unexpected(invalid("--repeat-after must be inbound, connected or converted, not '" + *s.repeat_after + "'"));
  }
  if (s.min_attestation && !auth::parse_attestation(*s.min_attestation)) {
    return std::unexpected(invalid("--min-attestation must be A, B, C or none, not '" + *s.min_attestation + "'"));
  }
  return {};
}

// Inside the caller's transaction, after the campaign row exists.
AdminResult<void> apply_screening(Connection& db, const std::string& campaign_id, const ScreeningChanges& s) {
  if (s.repeat_route && *s.repeat_route) {
    if (auto ok = require(db, "buyer", "buyers", **s.repeat_route); !ok) return ok;
  }
  std::optional<std::string> attestation;
  if (s.min_attestation) {
    auto level = auth::parse_attestation(*s.min_attestation);
    attestation = std::string(auth::to_string(*level));
  }
  const bool set_window = static_cast<bool>(s.repeat_window);
  const std::optional<std::int64_t> window = set_window ? *s.repeat_window : std::nullopt;
  const bool set_route = static_cast<bool>(s.repeat_route);
  const std::optional<std::string> route = set_route ? *s.repeat_route : std::nullopt;
  return run(db,
             "UPDATE campaigns SET repeat_window = CASE WHEN ?1 THEN ?2 ELSE repeat_window END, "
             "repeat_after = coalesce(?3, repeat_after), repeat_route = CASE WHEN ?4 THEN ?5 ELSE repeat_route END, "
             "min_attestation = CASE WHEN ?6 IS NULL THEN min_attestation WHEN ?6 = 'none' THEN NULL ELSE ?6 END "
             "WHERE id = ?7",
             set_window ? 1 : 0, window, s.repeat_after, set_route ? 1 : 0, route, attestation, campaign_id);
}

AdminResult<std::string> Admin::add_block(const std::string& text, const std::optional<std::string>& campaign_id,
                                          const std::string& note, std::int64_t now_ms) {
  auto entry = parse_entry(text);
  if (!entry) return std::unexpected(entry.error());
  if (auto ok = check_text("note", note); !ok) return std::unexpected(ok.error());
  const std::string stored = entry->text();
  auto ok = in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require_campaign(db_, campaign_id); !ok) return ok;
    if (auto ok = refuse_if_exists(db_, stored + " is already on " + scope_words(campaign_id),
                                   "SELECT 1 FROM blocks WHERE campaign_id = ? AND entry = ?", scope_of(campaign_id), stored);
        !ok) {
      return ok;
    }
    return run(db_, "INSERT INTO blocks (campaign_id, entry, note, created_at) VALUES (?, ?, ?, ?)", scope_of(campaign_id),
               stored, note, now_ms);
  });
  if (!ok) return std::unexpected(ok.error());
  return stored;
}

AdminResult<Records> Admin::list_blocks(const std::optional<std::string>& campaign_id) {
  // --campaign C lists what applies to C: its own entries and the global ones.
  return query(db_,
               "SELECT entry, CASE WHEN campaign_id = '' THEN NULL ELSE campaign_id END AS campaign_id, note, created_at "
               "FROM blocks WHERE ?1 IS NULL OR campaign_id IN ('', ?1) ORDER BY campaign_id, entry",
               campaign_id);
}

AdminResult<void> Admin::remove_block(const std::string& text, const std::optional<std::string>& campaign_id) {
  auto entry = parse_entry(text);
  if (!entry) return std::unexpected(entry.error());
  return in_transaction(db_, [&]() -> AdminResult<void> {
    return run_one(db_, entry->text() + " is not on " + scope_words(campaign_id),
                   "DELETE FROM blocks WHERE campaign_id = ? AND entry = ?", scope_of(campaign_id), entry->text());
  });
}

AdminResult<std::int64_t> Admin::import_blocks(std::istream& lines, const std::optional<std::string>& campaign_id,
                                               std::int64_t now_ms) {
  std::int64_t added = 0;
  auto ok = in_transaction(db_, [&]() -> AdminResult<void> {
    if (auto ok = require_campaign(db_, campaign_id); !ok) return ok;
    auto insert = db_.prepare("INSERT OR IGNORE INTO blocks (campaign_id, entry, note, created_at) VALUES (?, ?, 'imported', ?)");
    if (!insert) return std::unexpected(from_db(insert.error()));
    const std::string scope = scope_of(campaign_id);
    std::string line;
    std::int64_t number = 0;
    while (std::getline(lines, line)) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::string_view trimmed = auth::trim(line);
      if (trimmed.empty() || trimmed.front() == '#') continue;
      auto entry = routing::parse_block_entry(trimmed);
      if (!entry) return std::unexpected(invalid("line " + std::to_string(number) + ": " + entry.error() + "; nothing imported"));
      insert->bind_all(scope, entry->text(), now_ms);
      if (auto done = insert->run(); !done) return std::unexpected(from_db(done.error()));
      added += db_.changes();
      insert->reset();
    }
    if (lines.bad()) return std::unexpected(invalid("cannot read the file; nothing imported"));
    return {};
  });
  if (!ok) return std::unexpected(ok.error());
  return added;
}

}  // namespace sipgw::db
