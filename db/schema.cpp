#include "db/schema.h"

#include <string>
#include <vector>

namespace sipgw::db {

namespace {

// Append-only: never edit a released migration, add the next one.
const std::vector<const char*>& migrations() {
  static const std::vector<const char*> kMigrations = {
      // 1: provisioning and CDRs.
      R"sql(
CREATE TABLE domains (
  name        TEXT PRIMARY KEY,
  auth_mode   TEXT NOT NULL CHECK (auth_mode IN ('digest', 'ip', 'digest-or-ip')),
  realm       TEXT NOT NULL,
  algorithms  TEXT NOT NULL DEFAULT 'MD5,SHA-256'
) WITHOUT ROWID;

CREATE TABLE publishers (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL DEFAULT '',
  enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  concurrency_cap INTEGER CHECK (concurrency_cap >= 0)
);

CREATE TABLE credentials (
  username      TEXT NOT NULL,
  realm         TEXT NOT NULL,
  publisher_id  TEXT NOT NULL REFERENCES publishers (id),
  ha1_md5       TEXT NOT NULL,
  ha1_sha256    TEXT NOT NULL,
  PRIMARY KEY (username, realm)
);
CREATE INDEX credentials_by_publisher ON credentials (publisher_id);

CREATE TABLE allowlist (
  cidr          TEXT PRIMARY KEY,
  publisher_id  TEXT NOT NULL REFERENCES publishers (id),
  note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX allowlist_by_publisher ON allowlist (publisher_id);

CREATE TABLE campaigns (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL DEFAULT '',
  ring_timeout  INTEGER NOT NULL DEFAULT 30 CHECK (ring_timeout > 0)
);

CREATE TABLE numbers (
  e164          TEXT PRIMARY KEY,
  campaign_id   TEXT NOT NULL REFERENCES campaigns (id),
  publisher_id  TEXT REFERENCES publishers (id),
  enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1))
);
CREATE INDEX numbers_by_campaign ON numbers (campaign_id);
CREATE INDEX numbers_by_publisher ON numbers (publisher_id);

CREATE TABLE buyers (
  id               TEXT PRIMARY KEY,
  target           TEXT NOT NULL,
  auth_user        TEXT,
  auth_password    TEXT,
  concurrency_cap  INTEGER CHECK (concurrency_cap >= 0),
  hourly_cap       INTEGER CHECK (hourly_cap >= 0),
  daily_cap        INTEGER CHECK (daily_cap >= 0),
  hours            TEXT NOT NULL DEFAULT '',
  time_zone        TEXT NOT NULL DEFAULT 'UTC',
  connect_timeout  INTEGER NOT NULL DEFAULT 10 CHECK (connect_timeout > 0),
  enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1))
);

CREATE TABLE buyer_headers (
  buyer_id  TEXT NOT NULL REFERENCES buyers (id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,
  name      TEXT NOT NULL,
  value     TEXT NOT NULL,
  PRIMARY KEY (buyer_id, position)
);

CREATE TABLE routes (
  campaign_id  TEXT NOT NULL REFERENCES campaigns (id),
  buyer_id     TEXT NOT NULL REFERENCES buyers (id),
  priority     INTEGER NOT NULL DEFAULT 0,
  weight       INTEGER NOT NULL DEFAULT 1 CHECK (weight > 0),
  PRIMARY KEY (campaign_id, buyer_id)
);
CREATE INDEX routes_by_buyer ON routes (buyer_id);

CREATE TABLE trunk (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  proxy          TEXT NOT NULL,
  auth_user      TEXT,
  auth_password  TEXT,
  from_domain    TEXT
);

CREATE TABLE settings (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);

-- CDRs carry copies of ids, not foreign keys: a call record outlives the
-- provisioning it was made with.
CREATE TABLE calls (
  uuid           TEXT PRIMARY KEY,
  postback_key   TEXT NOT NULL,
  publisher_id   TEXT,
  sub_id         TEXT,
  caller         TEXT,
  number         TEXT NOT NULL,
  campaign_id    TEXT,
  buyer_id       TEXT,
  attempts       INTEGER NOT NULL DEFAULT 0,
  invite_at      INTEGER NOT NULL,   -- Unix milliseconds
  answer_at      INTEGER,
  end_at         INTEGER,
  final_status   INTEGER,
  hangup_side    TEXT,
  hangup_cause   TEXT
);
CREATE INDEX calls_by_invite ON calls (invite_at);
CREATE INDEX calls_by_buyer ON calls (buyer_id, answer_at);

CREATE TABLE call_attempts (
  call_uuid   TEXT NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
  attempt     INTEGER NOT NULL,
  buyer_id    TEXT NOT NULL,
  target      TEXT NOT NULL,
  status      INTEGER,
  reason      TEXT,
  started_at  INTEGER NOT NULL,
  answer_at   INTEGER,
  ended_at    INTEGER,
  PRIMARY KEY (call_uuid, attempt)
);
)sql",
      // 2: a campaign's longest call (NULL: the setting call.max_duration; 0: no limit).
      R"sql(
ALTER TABLE campaigns ADD COLUMN max_duration INTEGER CHECK (max_duration IS NULL OR max_duration >= 0);
)sql",
      // 3: banned sources: by sipgw after repeated authentication failures
      // ('auto') or by an admin ('manual'); expires_at NULL: until removed.
      R"sql(
CREATE TABLE bans (
  cidr        TEXT PRIMARY KEY,
  origin      TEXT NOT NULL CHECK (origin IN ('auto', 'manual')),
  created_at  INTEGER NOT NULL,   -- Unix milliseconds
  expires_at  INTEGER,            -- Unix milliseconds; NULL: permanent
  note        TEXT NOT NULL DEFAULT ''
);
)sql",
      // 4: call screening: block lists, repeat callers, STIR/SHAKEN
      // minimums, publisher caps and rates; screened calls in the CDRs.
      R"sql(
CREATE TABLE blocks (
  campaign_id  TEXT NOT NULL DEFAULT '',   -- '': every campaign
  entry        TEXT NOT NULL,              -- anonymous, +E164, +DIGITS* (prefix)
  note         TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,           -- Unix milliseconds
  PRIMARY KEY (campaign_id, entry)
) WITHOUT ROWID;
ALTER TABLE campaigns ADD COLUMN repeat_window INTEGER CHECK (repeat_window IS NULL OR repeat_window > 0);
ALTER TABLE campaigns ADD COLUMN repeat_after TEXT NOT NULL DEFAULT 'inbound'
  CHECK (repeat_after IN ('inbound', 'connected', 'converted'));
ALTER TABLE campaigns ADD COLUMN repeat_route TEXT;
ALTER TABLE campaigns ADD COLUMN min_attestation TEXT CHECK (min_attestation IS NULL OR min_attestation IN ('A', 'B', 'C'));
ALTER TABLE publishers ADD COLUMN hourly_cap INTEGER CHECK (hourly_cap IS NULL OR hourly_cap >= 0);
ALTER TABLE publishers ADD COLUMN daily_cap INTEGER CHECK (daily_cap IS NULL OR daily_cap >= 0);
ALTER TABLE publishers ADD COLUMN cps INTEGER CHECK (cps IS NULL OR cps > 0);
ALTER TABLE publishers ADD COLUMN caller_from TEXT NOT NULL DEFAULT 'from' CHECK (caller_from IN ('from', 'pai'));
ALTER TABLE buyers ADD COLUMN pass_identity INTEGER NOT NULL DEFAULT 1 CHECK (pass_identity IN (0, 1));
-- outcome: NULL for a call that reached buyer selection, 'blocked' for one
-- screened out (block_reason says why); attestation: A, B, C or none.
ALTER TABLE calls ADD COLUMN outcome TEXT;
ALTER TABLE calls ADD COLUMN block_reason TEXT;
ALTER TABLE calls ADD COLUMN attestation TEXT;
)sql",
      // 5: conversions, call events and their postbacks.
      R"sql(
ALTER TABLE campaigns ADD COLUMN conversion_seconds INTEGER CHECK (conversion_seconds IS NULL OR conversion_seconds > 0);
ALTER TABLE buyers ADD COLUMN conversion_seconds INTEGER CHECK (conversion_seconds IS NULL OR conversion_seconds > 0);
ALTER TABLE calls ADD COLUMN converted_at INTEGER;  -- Unix ms; by time connected or reported through the API
ALTER TABLE calls ADD COLUMN rejected_at INTEGER;   -- Unix ms; reported through the API
CREATE INDEX calls_by_postback_key ON calls (postback_key);

-- Where an event is reported: url, headers and body are [token] templates.
CREATE TABLE postbacks (
  id           INTEGER PRIMARY KEY,
  event        TEXT NOT NULL CHECK (event IN ('inbound', 'connected', 'converted', 'completed', 'blocked', 'rejected')),
  url          TEXT NOT NULL,
  method       TEXT NOT NULL DEFAULT 'GET' CHECK (method IN ('GET', 'POST')),
  headers      TEXT NOT NULL DEFAULT '',   -- 'Name: value' lines joined by LF
  body         TEXT NOT NULL DEFAULT '',
  campaign_id  TEXT,                       -- NULL: any
  publisher_id TEXT,
  buyer_id     TEXT
);

-- One delivery of one event to one postback, rendered when the event was
-- stored (in the same transaction as its call record), kept after it is
-- delivered or has failed for good.
CREATE TABLE postback_outbox (
  id               INTEGER PRIMARY KEY,
  event_id         TEXT NOT NULL,          -- the Idempotency-Key
  postback_id      INTEGER NOT NULL,
  call_uuid        TEXT NOT NULL,
  receiver         TEXT NOT NULL,          -- scheme://host:port: a call's events go to each in order
  event            TEXT NOT NULL,
  method           TEXT NOT NULL,
  url              TEXT NOT NULL,
  headers          TEXT NOT NULL,
  body             TEXT NOT NULL,
  state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  created_at       INTEGER NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  last_status      INTEGER,
  last_error       TEXT NOT NULL DEFAULT '',
  delivered_at     INTEGER
);
CREATE INDEX postback_outbox_due ON postback_outbox (state, next_attempt_at);
CREATE INDEX postback_outbox_by_call ON postback_outbox (call_uuid, receiver, id);
)sql",
      // 6: the digest nonce secret a deployment's gateways share, and
      // buyers trusted with the caller's asserted identity.
      R"sql(
-- 'current' signs new nonces; 'previous' (the one it replaced) still
-- verifies, so a rotation costs no client a failed call. Hex, never printed.
CREATE TABLE nonce_secrets (
  slot    TEXT PRIMARY KEY CHECK (slot IN ('current', 'previous')),
  secret  TEXT NOT NULL CHECK (length(secret) = 64),
  set_at  INTEGER NOT NULL  -- Unix milliseconds
) WITHOUT ROWID;
ALTER TABLE buyers ADD COLUMN pass_asserted_identity INTEGER NOT NULL DEFAULT 0 CHECK (pass_asserted_identity IN (0, 1));
)sql",
  };
  return kMigrations;
}

}  // namespace

int latest_schema_version() { return static_cast<int>(migrations().size()); }

DbResult<int> migrate(Connection& connection) {
  auto transaction = Transaction::begin(connection);
  if (!transaction) return std::unexpected(transaction.error());
  auto version = connection.query_int("PRAGMA user_version");
  if (!version) return std::unexpected(version.error());
  const int latest = latest_schema_version();
  if (*version > latest) {
    return std::unexpected(DbError{SQLITE_ERROR, "database schema version " + std::to_string(*version) +
                                                     " is newer than this sipgw knows (" + std::to_string(latest) +
                                                     "); upgrade sipgw before using this database"});
  }
  int applied = 0;
  for (int v = static_cast<int>(*version); v < latest; ++v) {
    if (auto ok = connection.execute_script(migrations()[v]); !ok) return std::unexpected(ok.error());
    // The version is a literal integer we control; PRAGMA cannot take a bound parameter.
    if (auto ok = connection.execute_script("PRAGMA user_version=" + std::to_string(v + 1)); !ok) {
      return std::unexpected(ok.error());
    }
    ++applied;
  }
  if (auto ok = transaction->commit(); !ok) return std::unexpected(ok.error());
  return applied;
}

DbResult<void> require_current_schema(Connection& connection) {
  auto version = connection.query_int("PRAGMA user_version");
  if (!version) return std::unexpected(version.error());
  const int latest = latest_schema_version();
  if (*version > latest) {
    return std::unexpected(DbError{SQLITE_ERROR, "database schema version " + std::to_string(*version) +
                                                     " is newer than this sipgw knows (" + std::to_string(latest) +
                                                     "); upgrade sipgw before using this database"});
  }
  if (*version < latest) {
    return std::unexpected(DbError{SQLITE_ERROR, "database schema version " + std::to_string(*version) +
                                                     " is not current (" + std::to_string(latest) +
                                                     "); run 'sipgwctl init' to migrate it"});
  }
  return {};
}

}  // namespace sipgw::db
