// sipgwctl campaign | number | buyer | route | trunk: where calls go.
#include "db/ctl_commands.h"
#include "db/ctl_output.h"
#include "db/ctl_values.h"
#include "db/secret_input.h"

#include <chrono>
#include <iostream>

namespace sipgw::db {

namespace {

struct CampaignOptions {
  std::string id, name, max_duration, repeat_window, repeat_after, repeat_route, min_attestation, conversion;
  std::int64_t ring_timeout = 30;
};

void add_screening_options(CLI::App* sub, CampaignOptions& o) {
  sub->add_option("--repeat-window", o.repeat_window,
                  "seconds after a caller's call during which the same caller is a repeat caller, or none");
  sub->add_option("--repeat-after", o.repeat_after,
                  "what starts the window: inbound (any call let in, default), connected (answered) or converted "
                  "(by --conversion-seconds or the outcome API)");
  sub->add_option("--repeat-route", o.repeat_route, "send repeat callers to this buyer only instead of refusing them, or none");
  sub->add_option("--min-attestation", o.min_attestation,
                  "lowest STIR/SHAKEN attestation let in: A, B, C or none (default none)");
  sub->add_option("--conversion-seconds", o.conversion,
                  "seconds connected to a buyer after which a call is converted, or none (default)");
}

// --conversion-seconds for a campaign or buyer: checked before anything is
// written, applied after the row exists.
std::expected<CapChange, std::string> conversion_change(const CLI::App* sub, const std::string& text) {
  if (sub->count("--conversion-seconds") == 0) return CapChange{};
  auto seconds = parse_cap("--conversion-seconds", text);
  if (!seconds) return std::unexpected(seconds.error());
  if (*seconds && **seconds && (***seconds < 1 || ***seconds > 86400)) {
    return std::unexpected("conversion time must be 1 to 86400 seconds");
  }
  return *seconds;
}

int with_conversion(Admin& a, std::string_view table, const std::string& id, const AdminResult<void>& first,
                    const CapChange& conversion, const std::string& message) {
  if (!first) return fail(first.error());
  return done(a.set_conversion_seconds(table, id, conversion), message);
}

std::expected<ScreeningChanges, std::string> screening_changes(const CLI::App* sub, const CampaignOptions& o) {
  ScreeningChanges c;
  if (sub->count("--repeat-window")) {
    auto window = parse_cap("--repeat-window", o.repeat_window);
    if (!window) return std::unexpected(window.error());
    c.repeat_window = *window;
  }
  if (sub->count("--repeat-after")) c.repeat_after = o.repeat_after;
  if (sub->count("--repeat-route")) {
    c.repeat_route = o.repeat_route == "none" ? std::optional<std::string>{} : std::optional<std::string>{o.repeat_route};
  }
  if (sub->count("--min-attestation")) c.min_attestation = o.min_attestation;
  return c;
}

struct NumberOptions {
  std::string e164, campaign, publisher;
};

struct BuyerOptions {
  std::string id, target, auth_user, hours, tz, concurrency, hourly, daily, identity, asserted_identity, conversion;
  std::vector<std::string> headers;
  std::int64_t connect_timeout = 10;
  bool password_stdin = false, clear_auth = false, clear_headers = false, enable = false, disable = false;
};

struct RouteOptions {
  std::string campaign, buyer;
  std::int64_t priority = 0, weight = 1;
};

struct TrunkOptions {
  std::string proxy, auth_user, from_domain;
  bool password_stdin = false;
};

void add_buyer_options(CLI::App* sub, BuyerOptions& o, bool is_add) {
  sub->add_option("ID", o.id)->required();
  auto* t = sub->add_option("--target", o.target, "sip: URI ([tokens] allowed) or +E164 via the trunk");
  if (is_add) t->required();
  sub->add_option("--auth-user", o.auth_user, "outbound SIP username for the buyer's challenges");
  sub->add_flag("--auth-password-stdin", o.password_stdin, "read the outbound SIP password from stdin");
  sub->add_option("--header", o.headers, "'Name: value' ([tokens] allowed); repeat for more");
  sub->add_option("--concurrency", o.concurrency, "most calls in progress at once, or none");
  sub->add_option("--hourly-cap", o.hourly, "most connected calls per local hour, or none");
  sub->add_option("--daily-cap", o.daily, "most connected calls per local day, or none");
  sub->add_option("--hours", o.hours, "e.g. 'mon-fri 09:00-12:00,13:00-17:00; sat 10:00-14:00' (empty: always)");
  sub->add_option("--tz", o.tz, "IANA time zone of the hours and caps, e.g. America/New_York (default UTC)");
  sub->add_option("--connect-timeout", o.connect_timeout, "seconds to wait for the buyer's first 18x (default 10)");
  sub->add_option("--conversion-seconds", o.conversion,
                  "seconds connected after which this buyer's calls are converted, or none (default: the campaign's)");
  sub->add_option("--identity", o.identity,
                  "the publisher's STIR/SHAKEN Identity header: pass (to this buyer, default) or strip");
  sub->add_option("--asserted-identity", o.asserted_identity,
                  "the caller's identity in P-Asserted-Identity, also for callers who asked for privacy: pass (a "
                  "buyer trusted with it) or strip (default: From only, anonymous when the caller asked)");
  if (!is_add) {
    sub->add_flag("--clear-auth", o.clear_auth, "remove the outbound credentials");
    sub->add_flag("--clear-headers", o.clear_headers, "remove every custom header");
    sub->add_flag("--enable", o.enable, "route calls to this buyer");
    sub->add_flag("--disable", o.disable, "stop routing calls to this buyer");
  }
}

// Only the options given change anything.
std::expected<BuyerChanges, std::string> buyer_changes(const CLI::App* sub, const BuyerOptions& o) {
  BuyerChanges c;
  if (sub->count("--target")) c.target = o.target;
  if (sub->count("--auth-user")) c.auth_user = o.auth_user;
  if (o.password_stdin) {
    auto password = read_secret("Outbound SIP password: ", false);
    if (!password) return std::unexpected(password.error());
    c.auth_password = *password;
  }
  if (sub->count("--header")) c.headers = o.headers;
  if (o.clear_headers) {
    if (c.headers) return std::unexpected("--clear-headers cannot be combined with --header");
    c.headers = std::vector<std::string>{};
  }
  for (auto [flag, text, field] : {std::tuple{"--concurrency", &o.concurrency, &c.concurrency_cap},
                                   std::tuple{"--hourly-cap", &o.hourly, &c.hourly_cap},
                                   std::tuple{"--daily-cap", &o.daily, &c.daily_cap}}) {
    if (sub->count(flag) == 0) continue;
    auto cap = parse_cap(flag, *text);
    if (!cap) return std::unexpected(cap.error());
    *field = *cap;
  }
  if (sub->count("--hours")) c.hours = o.hours;
  if (sub->count("--tz")) c.time_zone = o.tz;
  if (sub->count("--connect-timeout")) c.connect_timeout = o.connect_timeout;
  if (sub->count("--identity")) {
    if (o.identity != "pass" && o.identity != "strip") return std::unexpected("--identity must be pass or strip, not '" + o.identity + "'");
    c.pass_identity = o.identity == "pass";
  }
  if (sub->count("--asserted-identity")) {
    if (o.asserted_identity != "pass" && o.asserted_identity != "strip") {
      return std::unexpected("--asserted-identity must be pass or strip, not '" + o.asserted_identity + "'");
    }
    c.pass_asserted_identity = o.asserted_identity == "pass";
  }
  if (o.enable && o.disable) return std::unexpected("--enable and --disable contradict each other");
  if (o.enable || o.disable) c.enabled = o.enable;
  c.clear_auth = o.clear_auth;
  return c;
}

}  // namespace

void setup_campaign(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<CampaignOptions>();
  auto* camp = app.add_subcommand("campaign", "campaigns: what a number belongs to, and where its calls are routed");
  camp->require_subcommand(1, 1);
  auto* add = camp->add_subcommand("add", "add a campaign");
  add->add_option("ID", o->id)->required();
  add->add_option("--name", o->name);
  add->add_option("--ring-timeout", o->ring_timeout, "seconds a buyer may ring before the call moves on (default 30)");
  add->add_option("--max-duration", o->max_duration,
                  "seconds a connected call may last, or none (default: the setting call.max_duration)");
  add_screening_options(add, *o);
  add->callback([&ctl, o, add] {
    ctl.action = [o, add](Admin& a) {
      auto max_duration = parse_cap("--max-duration", o->max_duration == "none" ? "0" : o->max_duration);
      if (!max_duration) return fail(kExitInvalid, max_duration.error());
      auto screening = screening_changes(add, *o);
      if (!screening) return fail(kExitInvalid, screening.error());
      auto conversion = conversion_change(add, o->conversion);
      if (!conversion) return fail(kExitInvalid, conversion.error());
      return with_conversion(a, "campaigns", o->id, a.add_campaign(o->id, o->name, o->ring_timeout, *max_duration, *screening),
                             *conversion, "added campaign " + o->id);
    };
  });
  auto* update = camp->add_subcommand("update", "change a campaign (only the options given)");
  update->add_option("ID", o->id)->required();
  auto* name = update->add_option("--name", o->name);
  auto* ring = update->add_option("--ring-timeout", o->ring_timeout, "seconds a buyer may ring");
  update->add_option("--max-duration", o->max_duration,
                     "seconds a connected call may last, none for no limit, or default for the setting");
  add_screening_options(update, *o);
  update->callback([&ctl, o, name, ring, update] {
    ctl.action = [o, name, ring, update](Admin& a) {
      auto screening = screening_changes(update, *o);
      if (!screening) return fail(kExitInvalid, screening.error());
      CapChange max_duration;  // unchanged
      if (o->max_duration == "default") {
        max_duration = std::optional<std::int64_t>{};
      } else if (!o->max_duration.empty()) {
        auto parsed = parse_cap("--max-duration", o->max_duration == "none" ? "0" : o->max_duration);
        if (!parsed) return fail(kExitInvalid, parsed.error());
        max_duration = *parsed;
      }
      std::optional<std::int64_t> ring_timeout;
      if (ring->count()) ring_timeout = o->ring_timeout;
      auto conversion = conversion_change(update, o->conversion);
      if (!conversion) return fail(kExitInvalid, conversion.error());
      return with_conversion(a, "campaigns", o->id,
                             a.update_campaign(o->id, given(name, o->name), ring_timeout, max_duration, *screening),
                             *conversion, "updated campaign " + o->id);
    };
  });
  add_list_command(camp, ctl, "list campaigns", [](Admin& a) { return a.list_campaigns(); });
  add_remove_command(camp, ctl, "remove a campaign (and its routes)", "ID",
                     [](Admin& a, const std::string& id) { return a.remove_campaign(id); });
}

void setup_number(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<NumberOptions>();
  auto* num = app.add_subcommand("number", "tracking numbers publishers dial, mapped to campaigns");
  num->require_subcommand(1, 1);
  auto* add = num->add_subcommand("add", "add a number");
  add->add_option("E164", o->e164, "e.g. +18882223333")->required();
  add->add_option("--campaign", o->campaign)->required();
  auto* publisher = add->add_option("--publisher", o->publisher, "only this publisher may call it");
  add->callback([&ctl, o, publisher] {
    ctl.action = [o, publisher](Admin& a) {
      return done(a.add_number(o->e164, o->campaign, given(publisher, o->publisher)), "added number " + o->e164);
    };
  });
  auto* list = num->add_subcommand("list", "list numbers");
  auto* campaign = list->add_option("--campaign", o->campaign);
  list->callback([&ctl, o, campaign] {
    ctl.action = [&ctl, o, campaign](Admin& a) { return output(ctl.json, a.list_numbers(given(campaign, o->campaign))); };
  });
  add_switch_commands(num, ctl,
                      {"number", "E164", "route calls to a number", "refuse calls to a number (404)",
                       [](Admin& a, const std::string& e164) { return a.remove_number(e164); },
                       [](Admin& a, const std::string& e164, bool on) { return a.set_number_enabled(e164, on); }});
}

void setup_buyer(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<BuyerOptions>();
  auto* buy = app.add_subcommand("buyer", "buyers: where calls are bridged (SIP URI or PSTN number), caps and hours");
  buy->require_subcommand(1, 1);
  auto* add = buy->add_subcommand("add", "add a buyer");
  add_buyer_options(add, *o, true);
  add->callback([&ctl, o, add] {
    ctl.action = [o, add](Admin& a) {
      auto c = buyer_changes(add, *o);
      if (!c) return fail(kExitInvalid, c.error());
      auto conversion = conversion_change(add, o->conversion);
      if (!conversion) return fail(kExitInvalid, conversion.error());
      return with_conversion(a, "buyers", o->id, a.add_buyer(o->id, *c), *conversion, "added buyer " + o->id);
    };
  });
  auto* update = buy->add_subcommand("update", "change a buyer (only the options given)");
  add_buyer_options(update, *o, false);
  update->callback([&ctl, o, update] {
    ctl.action = [o, update](Admin& a) {
      auto c = buyer_changes(update, *o);
      if (!c) return fail(kExitInvalid, c.error());
      auto conversion = conversion_change(update, o->conversion);
      if (!conversion) return fail(kExitInvalid, conversion.error());
      return with_conversion(a, "buyers", o->id, a.update_buyer(o->id, *c), *conversion, "updated buyer " + o->id);
    };
  });
  add_list_command(buy, ctl, "list buyers with caps and today's connected calls",
                   [](Admin& a) { return a.list_buyers(now_ms()); });
  auto* show = buy->add_subcommand("show", "show one buyer with its headers");
  show->add_option("ID", o->id)->required();
  show->callback([&ctl, o] { ctl.action = [&ctl, o](Admin& a) { return output(ctl.json, a.show_buyer(o->id, now_ms())); }; });
  add_remove_command(buy, ctl, "remove a buyer", "ID", [](Admin& a, const std::string& id) { return a.remove_buyer(id); });
}

void setup_route(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<RouteOptions>();
  auto* route = app.add_subcommand("route", "routes: which buyers a campaign's calls go to (priority, then weight)");
  route->require_subcommand(1, 1);
  auto* add = route->add_subcommand("add", "route a campaign to a buyer");
  add->add_option("--campaign", o->campaign)->required();
  add->add_option("--buyer", o->buyer)->required();
  add->add_option("--priority", o->priority, "lower is tried first (default 0)");
  add->add_option("--weight", o->weight, "share among equal priorities (default 1)");
  add->callback([&ctl, o] {
    ctl.action = [o](Admin& a) {
      return done(a.add_route(o->campaign, o->buyer, o->priority, o->weight), "added route " + o->campaign + " -> " + o->buyer);
    };
  });
  auto* list = route->add_subcommand("list", "list routes");
  auto* campaign = list->add_option("--campaign", o->campaign);
  list->callback([&ctl, o, campaign] {
    ctl.action = [&ctl, o, campaign](Admin& a) { return output(ctl.json, a.list_routes(given(campaign, o->campaign))); };
  });
  auto* remove = route->add_subcommand("remove", "remove a route");
  remove->add_option("--campaign", o->campaign)->required();
  remove->add_option("--buyer", o->buyer)->required();
  remove->callback([&ctl, o] {
    ctl.action = [o](Admin& a) {
      return done(a.remove_route(o->campaign, o->buyer), "removed route " + o->campaign + " -> " + o->buyer);
    };
  });
}

void setup_trunk(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<TrunkOptions>();
  auto* trunk = app.add_subcommand("trunk", "the PSTN carrier trunk for +E164 buyer targets");
  trunk->require_subcommand(1, 1);
  auto* set = trunk->add_subcommand("set", "configure the trunk");
  set->add_option("--proxy", o->proxy, "e.g. sip:carrier.example.com:5060")->required();
  auto* user = set->add_option("--auth-user", o->auth_user);
  set->add_flag("--auth-password-stdin", o->password_stdin, "read the trunk password from stdin");
  auto* from = set->add_option("--from-domain", o->from_domain, "host for the From header of PSTN calls");
  set->callback([&ctl, o, user, from] {
    ctl.action = [o, user, from](Admin& a) {
      TrunkChanges t{o->proxy, given(user, o->auth_user), std::nullopt, given(from, o->from_domain)};
      if (o->password_stdin) {
        auto password = read_secret("Trunk password: ", false);
        if (!password) return fail(kExitInvalid, password.error());
        t.auth_password = *password;
      }
      return done(a.set_trunk(t), "trunk set to " + o->proxy);
    };
  });
  trunk->add_subcommand("show", "show the trunk (never its password)")->callback([&ctl] {
    ctl.action = [&ctl](Admin& a) { return output(ctl.json, a.show_trunk()); };
  });
}

}  // namespace sipgw::db
