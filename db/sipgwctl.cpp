// sipgwctl: the admin CLI over sipgw's SQLite database.
// Exit codes: 0 success, 1 usage or validation error, 2 database error.
// Every error is one line on stderr.
#include "db/admin.h"
#include "db/schema.h"
#include "db/secret_input.h"
#include "db/sqlite.h"

#include <CLI/CLI.hpp>
#include <date/date.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>

namespace {

using sipgw::db::Admin;
using sipgw::db::AdminError;
using sipgw::db::AdminResult;
using sipgw::db::CapChange;
using sipgw::db::FieldValue;
using sipgw::db::Record;
using sipgw::db::Records;

constexpr int kExitOk = 0;
constexpr int kExitInvalid = 1;
constexpr int kExitDatabase = 2;

struct Options {
  std::string db_path;
  bool json = false;
};

int fail(int code, const std::string& message) {
  std::cerr << "sipgwctl: " << message << "\n";
  return code;
}

int fail(const AdminError& e) {
  return fail(e.kind == AdminError::Kind::database ? kExitDatabase : kExitInvalid, e.message);
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool is_time_column(const std::string& name) { return name.size() > 3 && name.ends_with("_at"); }

std::string format_time(std::int64_t ms) {
  using namespace std::chrono;
  return date::format("%FT%TZ", floor<seconds>(sys_time<milliseconds>(milliseconds(ms))));
}

std::string as_text(const std::string& column, const FieldValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return "-";
  if (auto* b = std::get_if<bool>(&v)) return *b ? "yes" : "no";
  if (auto* i = std::get_if<std::int64_t>(&v)) return is_time_column(column) ? format_time(*i) : std::to_string(*i);
  auto& s = std::get<std::string>(v);
  return s.empty() ? "\"\"" : s;
}

nlohmann::ordered_json as_json(const FieldValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return nullptr;
  if (auto* b = std::get_if<bool>(&v)) return *b;
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  return std::get<std::string>(v);
}

nlohmann::ordered_json as_json(const Record& r) {
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  for (auto& [k, v] : r) o[k] = as_json(v);
  return o;
}

nlohmann::ordered_json as_json(const Records& rs) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (auto& r : rs) a.push_back(as_json(r));
  return a;
}

void print_table(const Records& rows) {
  if (rows.empty()) return;
  std::vector<std::size_t> widths;
  for (auto& [k, v] : rows[0]) widths.push_back(k.size());
  std::vector<std::vector<std::string>> cells;
  for (auto& r : rows) {
    std::vector<std::string> line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line.push_back(as_text(r[i].first, r[i].second));
      widths[i] = std::max(widths[i], line.back().size());
    }
    cells.push_back(std::move(line));
  }
  auto print_line = [&](auto get) {
    std::string out;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      std::string cell = get(i);
      out += cell;
      if (i + 1 < widths.size()) out += std::string(widths[i] - cell.size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  print_line([&](std::size_t i) { return rows[0][i].first; });
  for (auto& line : cells) print_line([&](std::size_t i) { return line[i]; });
}

void print_record(const Record& r) {
  std::size_t width = 0;
  for (auto& [k, v] : r) width = std::max(width, k.size());
  for (auto& [k, v] : r) std::cout << k << ":" << std::string(width - k.size() + 1, ' ') << as_text(k, v) << "\n";
}

int output(const Options& o, const AdminResult<Records>& rows) {
  if (!rows) return fail(rows.error());
  if (o.json) {
    std::cout << as_json(*rows).dump(2) << "\n";
  } else {
    print_table(*rows);
  }
  return kExitOk;
}

int output(const Options& o, const AdminResult<Record>& row) {
  if (!row) return fail(row.error());
  if (o.json) {
    std::cout << as_json(*row).dump(2) << "\n";
  } else {
    print_record(*row);
  }
  return kExitOk;
}

int done(const AdminResult<void>& r, const std::string& message) {
  if (!r) return fail(r.error());
  std::cout << message << "\n";
  return kExitOk;
}

// "none" clears a cap; otherwise a whole number (negatives are refused by Admin).
std::expected<CapChange, std::string> parse_cap(const std::string& flag, const std::string& text) {
  if (text.empty()) return CapChange{};
  if (text == "none") return CapChange{std::optional<std::int64_t>{}};
  try {
    std::size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return CapChange{std::optional<std::int64_t>{v}};
  } catch (const std::exception&) {
    return std::unexpected(flag + " '" + text + "' is not a whole number or 'none'");
  }
}

// Unix seconds, or a UTC date/time "YYYY-MM-DD[THH:MM[:SS]]".
std::expected<std::int64_t, std::string> parse_time_ms(const std::string& flag, const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) return std::stoll(text) * 1000;
  for (const char* format : {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"}) {
    std::istringstream in(text.ends_with("Z") ? text.substr(0, text.size() - 1) : text);
    date::sys_time<std::chrono::seconds> t;
    in >> date::parse(format, t);
    if (!in.fail() && in.peek() == EOF) return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  }
  return std::unexpected(flag + " '" + text + "' is not Unix seconds or YYYY-MM-DD[THH:MM[:SS]] (UTC)");
}

using Action = std::function<int(Admin&)>;

// Opens the database for a command; init creates and migrates, everything
// else requires the schema to be current.
int run_action(const Options& o, bool is_init, const Action& action) {
  const char* timeout_env = std::getenv("SIPGW_BUSY_TIMEOUT_MS");
  int busy_timeout_ms = timeout_env ? std::atoi(timeout_env) : 5000;
  auto mode = is_init ? sipgw::db::Connection::Mode::read_write_create : sipgw::db::Connection::Mode::read_write;
  auto connection = sipgw::db::Connection::open(o.db_path, mode, busy_timeout_ms);
  if (!connection) {
    std::string hint = is_init ? "" : " (run 'sipgwctl init' to create it)";
    return fail(kExitDatabase, connection.error().message + hint);
  }
  if (is_init) {
    auto applied = sipgw::db::migrate(*connection);
    if (!applied) return fail(kExitDatabase, applied.error().message);
    std::cout << "database " << o.db_path << " is at schema version " << sipgw::db::latest_schema_version() << " ("
              << *applied << " migration(s) applied)\n";
    return kExitOk;
  }
  if (auto ok = sipgw::db::require_current_schema(*connection); !ok) return fail(kExitDatabase, ok.error().message);
  Admin admin(*connection);
  return action(admin);
}

std::optional<std::string> opt(const CLI::Option* option, const std::string& value) {
  if (option->count() == 0) return std::nullopt;
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const char* env_db = std::getenv("SIPGW_DB");
  o.db_path = env_db && *env_db ? env_db : "./sipgw.db";

  CLI::App app{"sipgwctl: provision the sipgw SIP ingress gateway (domains, publishers, credentials, allowlist,\n"
               "campaigns, numbers, buyers, routes, trunk, settings) and read its call records."};
  app.fallthrough();
  app.require_subcommand(1, 1);
  app.add_option("--db", o.db_path, "SQLite database (default $SIPGW_DB, else ./sipgw.db)");
  app.add_flag("--json", o.json, "machine-readable output for list/show");

  Action action;
  bool is_init = false;
  // Values the subcommands fill in; one command runs per invocation.
  std::string a1, a2, name, note, realm, publisher, campaign, buyer, auth_mode, algorithms, target, auth_user, hours,
      tz, proxy, from_domain, concurrency, hourly, daily, since, until;
  std::int64_t ring_timeout = 30, priority = 0, weight = 1, connect_timeout = 10, limit = 50;
  std::vector<std::string> headers;
  bool password_stdin = false, clear_auth = false, clear_headers = false, enable = false, disable = false;

  auto* init = app.add_subcommand("init", "create the database or migrate it to the current schema");
  init->callback([&] { is_init = true; action = [](Admin&) { return kExitOk; }; });

  // domain
  auto* domain = app.add_subcommand("domain", "SIP domains publishers dial (sip:+E164@DOMAIN) and how they authenticate");
  domain->require_subcommand(1, 1);
  {
    auto* add = domain->add_subcommand("add", "add a domain");
    add->add_option("NAME", a1, "domain name, e.g. sip.example.com")->required();
    add->add_option("--auth", auth_mode, "digest | ip | digest-or-ip")->required();
    auto* r = add->add_option("--realm", realm, "digest realm (default: the domain name)");
    auto* al = add->add_option("--algorithms", algorithms, "challenge order (default MD5,SHA-256)");
    add->callback([&, r, al] {
      action = [&, r, al](Admin& a) {
        return done(a.add_domain(a1, auth_mode, opt(r, realm), opt(al, algorithms)), "added domain " + a1);
      };
    });
    auto* update = domain->add_subcommand("update", "change a domain's auth mode, realm or algorithms");
    update->add_option("NAME", a1)->required();
    auto* m = update->add_option("--auth", auth_mode, "digest | ip | digest-or-ip");
    auto* r2 = update->add_option("--realm", realm, "digest realm");
    auto* al2 = update->add_option("--algorithms", algorithms, "challenge order, e.g. SHA-256");
    update->callback([&, m, r2, al2] {
      action = [&, m, r2, al2](Admin& a) {
        return done(a.update_domain(a1, opt(m, auth_mode), opt(r2, realm), opt(al2, algorithms)), "updated domain " + a1);
      };
    });
    domain->add_subcommand("list", "list domains")->callback([&] { action = [&](Admin& a) { return output(o, a.list_domains()); }; });
    auto* remove = domain->add_subcommand("remove", "remove a domain");
    remove->add_option("NAME", a1)->required();
    remove->callback([&] { action = [&](Admin& a) { return done(a.remove_domain(a1), "removed domain " + a1); }; });
  }

  // publisher
  auto* pub = app.add_subcommand("publisher", "publishers: who sends calls (their id is the AFID sent to buyers)");
  pub->require_subcommand(1, 1);
  {
    auto* add = pub->add_subcommand("add", "add a publisher");
    add->add_option("ID", a1)->required();
    add->add_option("--name", name, "display name");
    add->add_option("--concurrency", concurrency, "most calls in progress at once (default: no cap)");
    add->callback([&] {
      action = [&](Admin& a) {
        auto cap = parse_cap("--concurrency", concurrency);
        if (!cap) return fail(kExitInvalid, cap.error());
        return done(a.add_publisher(a1, name, *cap), "added publisher " + a1);
      };
    });
    pub->add_subcommand("list", "list publishers")->callback([&] { action = [&](Admin& a) { return output(o, a.list_publishers()); }; });
    for (auto [verb, help] : {std::pair{"remove", "remove a publisher"}, std::pair{"enable", "accept calls from a publisher"},
                              std::pair{"disable", "refuse calls from a publisher (403)"}}) {
      auto* sub = pub->add_subcommand(verb, help);
      sub->add_option("ID", a1)->required();
      std::string v = verb;
      sub->callback([&, v] {
        action = [&, v](Admin& a) {
          if (v == "remove") return done(a.remove_publisher(a1), "removed publisher " + a1);
          return done(a.set_publisher_enabled(a1, v == "enable"), v + "d publisher " + a1);
        };
      });
    }
  }

  // credential
  auto* cred = app.add_subcommand("credential", "digest credentials of publishers (stored as HA1 hashes only)");
  cred->require_subcommand(1, 1);
  {
    auto* add = cred->add_subcommand("add", "add a credential; the password is read from stdin or a prompt");
    add->add_option("USERNAME", a1)->required();
    add->add_option("--publisher", publisher)->required();
    auto* r = add->add_option("--realm", realm, "realm (default: the only digest realm)");
    add->callback([&, r] {
      action = [&, r](Admin& a) {
        auto password = sipgw::db::read_secret("Password for " + a1 + ": ", true);
        if (!password) return fail(kExitInvalid, password.error());
        return done(a.add_credential(a1, publisher, opt(r, realm), *password), "added credential " + a1);
      };
    });
    auto* list = cred->add_subcommand("list", "list credentials (never their hashes)");
    auto* lp = list->add_option("--publisher", publisher);
    list->callback([&, lp] { action = [&, lp](Admin& a) { return output(o, a.list_credentials(opt(lp, publisher))); }; });
    auto* remove = cred->add_subcommand("remove", "remove a credential");
    remove->add_option("USERNAME", a1)->required();
    auto* rr = remove->add_option("--realm", realm);
    remove->callback([&, rr] {
      action = [&, rr](Admin& a) { return done(a.remove_credential(a1, opt(rr, realm)), "removed credential " + a1); };
    });
    auto* passwd = cred->add_subcommand("passwd", "set a new password (stdin or prompt)");
    passwd->add_option("USERNAME", a1)->required();
    auto* pr = passwd->add_option("--realm", realm);
    passwd->callback([&, pr] {
      action = [&, pr](Admin& a) {
        auto password = sipgw::db::read_secret("New password for " + a1 + ": ", true);
        if (!password) return fail(kExitInvalid, password.error());
        return done(a.change_credential_password(a1, opt(pr, realm), *password), "changed password of " + a1);
      };
    });
  }

  // allowlist
  auto* allow = app.add_subcommand("allowlist", "source-IP allowlist: CIDR -> publisher (longest match wins)");
  allow->require_subcommand(1, 1);
  {
    auto* add = allow->add_subcommand("add", "allow a source prefix for a publisher");
    add->add_option("CIDR", a1, "e.g. 192.0.2.0/24, 2001:db8::/32, or one address")->required();
    add->add_option("--publisher", publisher)->required();
    add->add_option("--note", note);
    add->callback([&] {
      action = [&](Admin& a) {
        auto stored = a.add_allowlist(a1, publisher, note);
        if (!stored) return fail(stored.error());
        std::cout << "added allowlist " << *stored << " -> " << publisher << "\n";
        return kExitOk;
      };
    });
    auto* list = allow->add_subcommand("list", "list allowlist entries");
    auto* lp = list->add_option("--publisher", publisher);
    list->callback([&, lp] { action = [&, lp](Admin& a) { return output(o, a.list_allowlist(opt(lp, publisher))); }; });
    auto* remove = allow->add_subcommand("remove", "remove an allowlist entry");
    remove->add_option("CIDR", a1)->required();
    remove->callback([&] { action = [&](Admin& a) { return done(a.remove_allowlist(a1), "removed allowlist " + a1); }; });
    auto* check = allow->add_subcommand("check", "print the publisher a source IP maps to (exit 1 when none)");
    check->add_option("IP", a1)->required();
    check->callback([&] {
      action = [&](Admin& a) {
        auto r = a.check_allowlist(a1);
        if (!r) return fail(r.error());
        if (o.json) {
          std::cout << as_json(*r).dump(2) << "\n";
        } else if (std::holds_alternative<std::string>(r->back().second)) {
          std::cout << std::get<std::string>(r->back().second) << " (" << std::get<std::string>((*r)[1].second) << ")\n";
        }
        if (std::holds_alternative<std::monostate>(r->back().second)) return fail(kExitInvalid, a1 + " matches no allowlist entry");
        return kExitOk;
      };
    });
  }

  // campaign
  auto* camp = app.add_subcommand("campaign", "campaigns: what a number belongs to, and where its calls are routed");
  camp->require_subcommand(1, 1);
  {
    auto* add = camp->add_subcommand("add", "add a campaign");
    add->add_option("ID", a1)->required();
    add->add_option("--name", name);
    add->add_option("--ring-timeout", ring_timeout, "seconds a buyer may ring before the call moves on (default 30)");
    add->callback([&] {
      action = [&](Admin& a) { return done(a.add_campaign(a1, name, ring_timeout), "added campaign " + a1); };
    });
    camp->add_subcommand("list", "list campaigns")->callback([&] { action = [&](Admin& a) { return output(o, a.list_campaigns()); }; });
    auto* remove = camp->add_subcommand("remove", "remove a campaign (and its routes)");
    remove->add_option("ID", a1)->required();
    remove->callback([&] { action = [&](Admin& a) { return done(a.remove_campaign(a1), "removed campaign " + a1); }; });
  }

  // number
  auto* num = app.add_subcommand("number", "tracking numbers publishers dial, mapped to campaigns");
  num->require_subcommand(1, 1);
  {
    auto* add = num->add_subcommand("add", "add a number");
    add->add_option("E164", a1, "e.g. +18882223333")->required();
    add->add_option("--campaign", campaign)->required();
    auto* p = add->add_option("--publisher", publisher, "only this publisher may call it");
    add->callback([&, p] {
      action = [&, p](Admin& a) { return done(a.add_number(a1, campaign, opt(p, publisher)), "added number " + a1); };
    });
    auto* list = num->add_subcommand("list", "list numbers");
    auto* lc = list->add_option("--campaign", campaign);
    list->callback([&, lc] { action = [&, lc](Admin& a) { return output(o, a.list_numbers(opt(lc, campaign))); }; });
    for (auto [verb, help] : {std::pair{"remove", "remove a number"}, std::pair{"enable", "route calls to a number"},
                              std::pair{"disable", "refuse calls to a number (404)"}}) {
      auto* sub = num->add_subcommand(verb, help);
      sub->add_option("E164", a1)->required();
      std::string v = verb;
      sub->callback([&, v] {
        action = [&, v](Admin& a) {
          if (v == "remove") return done(a.remove_number(a1), "removed number " + a1);
          return done(a.set_number_enabled(a1, v == "enable"), v + "d number " + a1);
        };
      });
    }
  }

  // buyer
  auto* buy = app.add_subcommand("buyer", "buyers: where calls are bridged (SIP URI or PSTN number), caps and hours");
  buy->require_subcommand(1, 1);
  {
    auto add_buyer_options = [&](CLI::App* sub, bool is_add) {
      sub->add_option("ID", a1)->required();
      auto* t = sub->add_option("--target", target, "sip:/sips: URI ([tokens] allowed) or +E164 via the trunk");
      if (is_add) t->required();
      sub->add_option("--auth-user", auth_user, "outbound SIP username for the buyer's challenges");
      sub->add_flag("--auth-password-stdin", password_stdin, "read the outbound SIP password from stdin");
      sub->add_option("--header", headers, "'Name: value' ([tokens] allowed); repeat for more");
      sub->add_option("--concurrency", concurrency, "most calls in progress at once, or none");
      sub->add_option("--hourly-cap", hourly, "most connected calls per local hour, or none");
      sub->add_option("--daily-cap", daily, "most connected calls per local day, or none");
      sub->add_option("--hours", hours, "e.g. 'mon-fri 09:00-12:00,13:00-17:00; sat 10:00-14:00' (empty: always)");
      sub->add_option("--tz", tz, "IANA time zone of the hours and caps, e.g. America/New_York (default UTC)");
      sub->add_option("--connect-timeout", connect_timeout, "seconds to wait for the buyer's first 18x (default 10)");
      if (!is_add) {
        sub->add_flag("--clear-auth", clear_auth, "remove the outbound credentials");
        sub->add_flag("--clear-headers", clear_headers, "remove every custom header");
        sub->add_flag("--enable", enable, "route calls to this buyer");
        sub->add_flag("--disable", disable, "stop routing calls to this buyer");
      }
    };
    auto build_changes = [&](CLI::App* sub) -> std::expected<sipgw::db::BuyerChanges, std::string> {
      sipgw::db::BuyerChanges c;
      if (sub->count("--target")) c.target = target;
      if (sub->count("--auth-user")) c.auth_user = auth_user;
      if (password_stdin) {
        auto password = sipgw::db::read_secret("Outbound SIP password: ", false);
        if (!password) return std::unexpected(password.error());
        c.auth_password = *password;
      }
      if (sub->count("--header")) c.headers = headers;
      if (clear_headers) {
        if (c.headers) return std::unexpected("--clear-headers cannot be combined with --header");
        c.headers = std::vector<std::string>{};
      }
      for (auto [flag, text, field] : {std::tuple{"--concurrency", &concurrency, &c.concurrency_cap},
                                       std::tuple{"--hourly-cap", &hourly, &c.hourly_cap},
                                       std::tuple{"--daily-cap", &daily, &c.daily_cap}}) {
        if (sub->count(flag) == 0) continue;
        auto cap = parse_cap(flag, *text);
        if (!cap) return std::unexpected(cap.error());
        *field = *cap;
      }
      if (sub->count("--hours")) c.hours = hours;
      if (sub->count("--tz")) c.time_zone = tz;
      if (sub->count("--connect-timeout")) c.connect_timeout = connect_timeout;
      if (enable && disable) return std::unexpected("--enable and --disable contradict each other");
      if (enable || disable) c.enabled = enable;
      c.clear_auth = clear_auth;
      return c;
    };
    auto* add = buy->add_subcommand("add", "add a buyer");
    add_buyer_options(add, true);
    add->callback([&, add, build_changes] {
      action = [&, add, build_changes](Admin& a) {
        auto c = build_changes(add);
        if (!c) return fail(kExitInvalid, c.error());
        return done(a.add_buyer(a1, *c), "added buyer " + a1);
      };
    });
    auto* update = buy->add_subcommand("update", "change a buyer (only the options given)");
    add_buyer_options(update, false);
    update->callback([&, update, build_changes] {
      action = [&, update, build_changes](Admin& a) {
        auto c = build_changes(update);
        if (!c) return fail(kExitInvalid, c.error());
        return done(a.update_buyer(a1, *c), "updated buyer " + a1);
      };
    });
    buy->add_subcommand("list", "list buyers with caps and today's connected calls")->callback([&] {
      action = [&](Admin& a) { return output(o, a.list_buyers(now_ms())); };
    });
    auto* show = buy->add_subcommand("show", "show one buyer with its headers");
    show->add_option("ID", a1)->required();
    show->callback([&] { action = [&](Admin& a) { return output(o, a.show_buyer(a1, now_ms())); }; });
    auto* remove = buy->add_subcommand("remove", "remove a buyer");
    remove->add_option("ID", a1)->required();
    remove->callback([&] { action = [&](Admin& a) { return done(a.remove_buyer(a1), "removed buyer " + a1); }; });
  }

  // route
  auto* route = app.add_subcommand("route", "routes: which buyers a campaign's calls go to (priority, then weight)");
  route->require_subcommand(1, 1);
  {
    auto* add = route->add_subcommand("add", "route a campaign to a buyer");
    add->add_option("--campaign", campaign)->required();
    add->add_option("--buyer", buyer)->required();
    add->add_option("--priority", priority, "lower is tried first (default 0)");
    add->add_option("--weight", weight, "share among equal priorities (default 1)");
    add->callback([&] {
      action = [&](Admin& a) {
        return done(a.add_route(campaign, buyer, priority, weight), "added route " + campaign + " -> " + buyer);
      };
    });
    auto* list = route->add_subcommand("list", "list routes");
    auto* lc = list->add_option("--campaign", campaign);
    list->callback([&, lc] { action = [&, lc](Admin& a) { return output(o, a.list_routes(opt(lc, campaign))); }; });
    auto* remove = route->add_subcommand("remove", "remove a route");
    remove->add_option("--campaign", campaign)->required();
    remove->add_option("--buyer", buyer)->required();
    remove->callback([&] {
      action = [&](Admin& a) { return done(a.remove_route(campaign, buyer), "removed route " + campaign + " -> " + buyer); };
    });
  }

  // trunk
  auto* trunk = app.add_subcommand("trunk", "the PSTN carrier trunk for +E164 buyer targets");
  trunk->require_subcommand(1, 1);
  {
    auto* set = trunk->add_subcommand("set", "configure the trunk");
    set->add_option("--proxy", proxy, "e.g. sip:carrier.example.com:5060")->required();
    set->add_option("--auth-user", auth_user);
    set->add_flag("--auth-password-stdin", password_stdin, "read the trunk password from stdin");
    set->add_option("--from-domain", from_domain, "host for the From header of PSTN calls");
    set->callback([&, set] {
      action = [&, set](Admin& a) {
        sipgw::db::TrunkChanges t{proxy, opt(set->get_option("--auth-user"), auth_user), std::nullopt,
                                  opt(set->get_option("--from-domain"), from_domain)};
        if (password_stdin) {
          auto password = sipgw::db::read_secret("Trunk password: ", false);
          if (!password) return fail(kExitInvalid, password.error());
          t.auth_password = *password;
        }
        return done(a.set_trunk(t), "trunk set to " + proxy);
      };
    });
    trunk->add_subcommand("show", "show the trunk (never its password)")->callback([&] {
      action = [&](Admin& a) { return output(o, a.show_trunk()); };
    });
  }

  // setting
  auto* setting = app.add_subcommand("setting", "gateway settings (header names, nonce lifetime, ...)");
  setting->require_subcommand(1, 1);
  {
    auto* set = setting->add_subcommand("set", "set a setting");
    set->add_option("KEY", a1)->required();
    set->add_option("VALUE", a2)->required();
    set->callback([&] { action = [&](Admin& a) { return done(a.set_setting(a1, a2), "set " + a1); }; });
    setting->add_subcommand("list", "list every setting with its value")->callback([&] {
      action = [&](Admin& a) { return output(o, a.list_settings()); };
    });
  }

  // calls
  auto* calls = app.add_subcommand("calls", "call records (CDRs) written by sipgw");
  calls->require_subcommand(1, 1);
  {
    auto* list = calls->add_subcommand("list", "list recent calls, newest first");
    list->add_option("--limit", limit, "at most this many (default 50)");
    auto* lc = list->add_option("--campaign", campaign);
    auto* lb = list->add_option("--buyer", buyer);
    auto* lp = list->add_option("--publisher", publisher);
    list->add_option("--since", since, "Unix seconds or YYYY-MM-DD[THH:MM[:SS]] UTC");
    list->add_option("--until", until, "Unix seconds or YYYY-MM-DD[THH:MM[:SS]] UTC");
    list->callback([&, lc, lb, lp, list] {
      action = [&, lc, lb, lp, list](Admin& a) {
        sipgw::db::CallFilter f;
        f.limit = limit;
        f.campaign_id = opt(lc, campaign);
        f.buyer_id = opt(lb, buyer);
        f.publisher_id = opt(lp, publisher);
        for (auto [flag, text, field] : {std::tuple{"--since", &since, &f.since_ms}, std::tuple{"--until", &until, &f.until_ms}}) {
          if (list->count(flag) == 0) continue;
          auto t = parse_time_ms(flag, *text);
          if (!t) return fail(kExitInvalid, t.error());
          *field = *t;
        }
        return output(o, a.list_calls(f));
      };
    });
    auto* show = calls->add_subcommand("show", "show one call with its buyer attempts");
    show->add_option("UUID", a1)->required();
    show->callback([&] {
      action = [&](Admin& a) {
        auto r = a.show_call(a1);
        if (!r) return fail(r.error());
        if (o.json) {
          auto j = as_json(r->first);
          j["attempts"] = as_json(r->second);
          std::cout << j.dump(2) << "\n";
        } else {
          print_record(r->first);
          std::cout << "\n";
          print_table(r->second);
        }
        return kExitOk;
      };
    });
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
  if (!action) return fail(kExitInvalid, "no command given (see sipgwctl --help)");
  return run_action(o, is_init, action);
}
