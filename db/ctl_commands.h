// sipgwctl's commands, one setup function per noun (CLI11's
// subcommands-in-files pattern): each adds its subcommands to the app with
// an options struct of its own and, when one of them is chosen, leaves the
// action to run in Ctl. main() opens the database and runs it.
#pragma once

#include "db/admin.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace sipgw::db {

struct Ctl {
  std::string db_path;
  bool json = false;      // --json: machine-readable list/show
  bool is_init = false;   // init creates and migrates instead of requiring the schema
  std::function<int(Admin&)> action;
};

// Wall-clock Unix milliseconds (bans expire, caps count by it).
inline std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The value of an option that was given, else nullopt.
inline std::optional<std::string> given(const CLI::Option* option, const std::string& value) {
  if (option->count() == 0) return std::nullopt;
  return value;
}

// "remove KEY", "enable KEY" and "disable KEY" under a noun whose rows can be
// switched off (publishers, numbers). noun: "publisher"; key_name: "ID".
struct SwitchCommands {
  std::string noun, key_name, enable_help, disable_help;
  std::function<AdminResult<void>(Admin&, const std::string& key)> remove;
  std::function<AdminResult<void>(Admin&, const std::string& key, bool enabled)> set_enabled;
};
void add_switch_commands(CLI::App* noun, Ctl& ctl, SwitchCommands commands);

// "list": prints what list() returns (a table, or JSON with --json).
void add_list_command(CLI::App* noun, Ctl& ctl, const std::string& help, std::function<AdminResult<Records>(Admin&)> list);
// "remove KEY": says "removed <noun> KEY" when remove() succeeds.
void add_remove_command(CLI::App* noun, Ctl& ctl, const std::string& help, const std::string& key_name,
                        std::function<AdminResult<void>(Admin&, const std::string& key)> remove);

void setup_init(CLI::App& app, Ctl& ctl);
void setup_domain(CLI::App& app, Ctl& ctl);
void setup_publisher(CLI::App& app, Ctl& ctl);
void setup_credential(CLI::App& app, Ctl& ctl);
void setup_allowlist(CLI::App& app, Ctl& ctl);
void setup_ban(CLI::App& app, Ctl& ctl);
void setup_nonce_secret(CLI::App& app, Ctl& ctl);
void setup_campaign(CLI::App& app, Ctl& ctl);
void setup_number(CLI::App& app, Ctl& ctl);
void setup_buyer(CLI::App& app, Ctl& ctl);
void setup_route(CLI::App& app, Ctl& ctl);
void setup_trunk(CLI::App& app, Ctl& ctl);
void setup_setting(CLI::App& app, Ctl& ctl);
void setup_calls(CLI::App& app, Ctl& ctl);
void setup_block(CLI::App& app, Ctl& ctl);
void setup_postback(CLI::App& app, Ctl& ctl);

}  // namespace sipgw::db
