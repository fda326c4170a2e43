// sipgwctl: the admin CLI over sipgw's SQLite database.
// Exit codes: 0 success, 1 usage or validation error, 2 database error.
// Every error is one line on stderr. The commands are in ctl_*.cpp, one
// setup function per noun (ctl_commands.h).
#include "db/admin.h"
#include "db/ctl_commands.h"
#include "db/ctl_output.h"
#include "db/schema.h"
#include "db/sqlite.h"

#include <cstdlib>
#include <iostream>

using namespace sipgw::db;

namespace {

// Opens the database for a command; init creates and migrates, everything
// else requires the schema to be current.
int run(const Ctl& ctl) {
  const char* timeout_env = std::getenv("SIPGW_BUSY_TIMEOUT_MS");
  int busy_timeout_ms = timeout_env ? std::atoi(timeout_env) : 5000;
  auto mode = ctl.is_init ? Connection::Mode::read_write_create : Connection::Mode::read_write;
  auto connection = Connection::open(ctl.db_path, mode, busy_timeout_ms);
  if (!connection) {
    std::string hint = ctl.is_init ? "" : " (run 'sipgwctl init' to create it)";
    return fail(kExitDatabase, connection.error().message + hint);
  }
  if (ctl.is_init) {
    auto applied = migrate(*connection);
    if (!applied) return fail(kExitDatabase, applied.error().message);
    std::cout << "database " << ctl.db_path << " is at schema version " << latest_schema_version() << " (" << *applied
              << " migration(s) applied)\n";
    return kExitOk;
  }
  if (auto ok = require_current_schema(*connection); !ok) return fail(kExitDatabase, ok.error().message);
  Admin admin(*connection);
  return ctl.action(admin);
}

}  // namespace

int main(int argc, char** argv) {
  Ctl ctl;
  const char* env_db = std::getenv("SIPGW_DB");
  ctl.db_path = env_db && *env_db ? env_db : "./sipgw.db";

  CLI::App app{"sipgwctl: provision the sipgw SIP ingress gateway (domains, publishers, credentials, allowlist,\n"
               "campaigns, numbers, buyers, routes, trunk, settings) and read its call records."};
  app.fallthrough();
  app.require_subcommand(1, 1);
  app.add_option("--db", ctl.db_path, "SQLite database (default $SIPGW_DB, else ./sipgw.db)");
  app.add_flag("--json", ctl.json, "machine-readable output for list/show");
  for (auto setup : {setup_init, setup_domain, setup_publisher, setup_credential, setup_allowlist, setup_ban, setup_nonce_secret,
                     setup_campaign,
                     setup_number, setup_buyer, setup_route, setup_trunk, setup_setting, setup_calls, setup_block, setup_postback}) {
    setup(app, ctl);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(kExitInvalid, e.what());
  }
  if (!ctl.action) return fail(kExitInvalid, "no command given (see sipgwctl --help)");
  return run(ctl);
}
