// The database schema as numbered migrations. PRAGMA user_version records how
// many are applied; each applies in its own transaction, so a crash leaves
// the database at a whole version.
#pragma once

#include "db/sqlite.h"

namespace sipgw::db {

// The newest schema version this binary knows.
int latest_schema_version();

// Applies the missing migrations; returns how many it applied (0 when the
// schema is current). A database newer than this binary is refused.
DbResult<int> migrate(Connection& connection);

// Refuses a schema other than the latest (commands other than `init` and
// the daemon's start-up, which migrate, call this).
DbResult<void> require_current_schema(Connection& connection);

}  // namespace sipgw::db
