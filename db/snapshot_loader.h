// Builds the provisioning snapshot from the database, and tells cheaply when
// the database has changed since (another connection committed).
#pragma once

#include "db/sqlite.h"
#include "routing/provisioning.h"

#include <cstdint>
#include <memory>

namespace sipgw::db {

// Reads every provisioning table in one read transaction, so the snapshot is
// consistent even while sipgwctl writes.
DbResult<std::shared_ptr<const routing::Snapshot>> load_snapshot(Connection& connection, std::uint64_t generation);

// PRAGMA data_version changes when another connection commits to the file.
// Polling it costs one query and no table reads.
class ChangeDetector {
 public:
  explicit ChangeDetector(Connection& connection) : connection_(&connection) {}
  // True when another connection committed since the last call (the first
  // call records the baseline and returns true).
  DbResult<bool> changed();

 private:
  Connection* connection_;
  std::int64_t last_ = -1;
};

}  // namespace sipgw::db
