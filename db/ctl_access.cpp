// sipgwctl domain | publisher | credential | allowlist: who may send calls.
#include "db/ctl_commands.h"
#include "db/ctl_output.h"
#include "db/ctl_values.h"
#include "db/secret_input.h"

#include <charconv>
#include <tuple>
#include <iostream>

namespace sipgw::db {

namespace {

struct DomainOptions {
  std::string name, auth_mode, realm, algorithms;
};

struct PublisherOptions {
  std::string id, name, concurrency, hourly, daily, cps, caller_from;
};

void add_publisher_options(CLI::App* sub, PublisherOptions& o) {
  sub->add_option("ID", o.id)->required();
  sub->add_option("--name", o.name, "display name");
  sub->add_option("--concurrency", o.concurrency, "most calls in progress at once, or none (default: no cap)");
  sub->add_option("--hourly-cap", o.hourly, "most connected calls per UTC hour, or none (over it: 486)");
  sub->add_option("--daily-cap", o.daily, "most connected calls per UTC day, or none (over it: 486)");
  sub->add_option("--cps", o.cps, "most new calls a second, or none (over it: 503 + Retry-After)");
  sub->add_option("--caller-from", o.caller_from,
                  "where the caller's number comes from: from (the From header, default) or pai "
                  "(P-Asserted-Identity, for a carrier trusted to assert it)");
}

// Only the options given change anything.
std::expected<PublisherChanges, std::string> publisher_changes(const CLI::App* sub, const PublisherOptions& o) {
  PublisherChanges c;
  if (sub->count("--name")) c.name = o.name;
  for (auto [flag, text, field] : {std::tuple{"--concurrency", &o.concurrency, &c.concurrency_cap},
                                   std::tuple{"--hourly-cap", &o.hourly, &c.hourly_cap},
                                   std::tuple{"--daily-cap", &o.daily, &c.daily_cap},
                                   std::tuple{"--cps", &o.cps, &c.cps}}) {
    if (sub->count(flag) == 0) continue;
    auto cap = parse_cap(flag, *text);
    if (!cap) return std::unexpected(cap.error());
    *field = *cap;
  }
  if (sub->count("--caller-from")) c.caller_from = o.caller_from;
  return c;
}

struct CredentialOptions {
  std::string username, publisher, realm;
};

struct AllowlistOptions {
  std::string cidr, publisher, note;
};

struct BanOptions {
  std::string cidr, seconds, note;
  bool override_allowlist = false;
};

}  // namespace

void setup_domain(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<DomainOptions>();
  auto* domain = app.add_subcommand("domain", "SIP domains publishers dial (sip:+E164@DOMAIN) and how they authenticate");
  domain->require_subcommand(1, 1);
  auto* add = domain->add_subcommand("add", "add a domain");
  add->add_option("NAME", o->name, "domain name, e.g. sip.example.com")->required();
  add->add_option("--auth", o->auth_mode, "digest | ip | digest-or-ip")->required();
  auto* realm = add->add_option("--realm", o->realm, "digest realm (default: the domain name)");
  auto* algorithms = add->add_option("--algorithms", o->algorithms, "challenge order (default MD5,SHA-256)");
  add->callback([&ctl, o, realm, algorithms] {
    ctl.action = [o, realm, algorithms](Admin& a) {
      return done(a.add_domain(o->name, o->auth_mode, given(realm, o->realm), given(algorithms, o->algorithms)),
                  "added domain " + o->name);
    };
  });
  auto* update = domain->add_subcommand("update", "change a domain's auth mode, realm or algorithms");
  update->add_option("NAME", o->name)->required();
  auto* mode = update->add_option("--auth", o->auth_mode, "digest | ip | digest-or-ip");
  auto* realm2 = update->add_option("--realm", o->realm, "digest realm");
  auto* algorithms2 = update->add_option("--algorithms", o->algorithms, "challenge order, e.g. SHA-256");
  update->callback([&ctl, o, mode, realm2, algorithms2] {
    ctl.action = [o, mode, realm2, algorithms2](Admin& a) {
      return done(a.update_domain(o->name, given(mode, o->auth_mode), given(realm2, o->realm),
                                  given(algorithms2, o->algorithms)),
                  "updated domain " + o->name);
    };
  });
  add_list_command(domain, ctl, "list domains", [](Admin& a) { return a.list_domains(); });
  add_remove_command(domain, ctl, "remove a domain", "NAME", [](Admin& a, const std::string& name) { return a.remove_domain(name); });
}

void setup_publisher(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<PublisherOptions>();
  auto* pub = app.add_subcommand("publisher", "publishers: who sends calls (their id is the AFID sent to buyers)");
  pub->require_subcommand(1, 1);
  auto* add = pub->add_subcommand("add", "add a publisher");
  add_publisher_options(add, *o);
  add->callback([&ctl, o, add] {
    ctl.action = [o, add](Admin& a) {
      auto c = publisher_changes(add, *o);
      if (!c) return fail(kExitInvalid, c.error());
      return done(a.add_publisher(o->id, *c), "added publisher " + o->id);
    };
  });
  auto* update = pub->add_subcommand("update", "change a publisher's name, caps, rate or caller source (only the options given)");
  add_publisher_options(update, *o);
  update->callback([&ctl, o, update] {
    ctl.action = [o, update](Admin& a) {
      auto c = publisher_changes(update, *o);
      if (!c) return fail(kExitInvalid, c.error());
      return done(a.update_publisher(o->id, *c), "updated publisher " + o->id);
    };
  });
  add_list_command(pub, ctl, "list publishers", [](Admin& a) { return a.list_publishers(); });
  add_switch_commands(pub, ctl,
                      {"publisher", "ID", "accept calls from a publisher", "refuse calls from a publisher (403)",
                       [](Admin& a, const std::string& id) { return a.remove_publisher(id); },
                       [](Admin& a, const std::string& id, bool on) { return a.set_publisher_enabled(id, on); }});
}

void setup_credential(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<CredentialOptions>();
  auto* cred = app.add_subcommand("credential", "digest credentials of publishers (stored as HA1 hashes only)");
  cred->require_subcommand(1, 1);
  auto* add = cred->add_subcommand("add", "add a credential; the password is read from stdin or a prompt");
  add->add_option("USERNAME", o->username)->required();
  add->add_option("--publisher", o->publisher)->required();
  auto* realm = add->add_option("--realm", o->realm, "realm (default: the only digest realm)");
  add->callback([&ctl, o, realm] {
    ctl.action = [o, realm](Admin& a) {
      auto password = read_secret("Password for " + o->username + ": ", true);
      if (!password) return fail(kExitInvalid, password.error());
      return done(a.add_credential(o->username, o->publisher, given(realm, o->realm), *password),
                  "added credential " + o->username);
    };
  });
  auto* list = cred->add_subcommand("list", "list credentials (never their hashes)");
  auto* publisher = list->add_option("--publisher", o->publisher);
  list->callback([&ctl, o, publisher] {
    ctl.action = [&ctl, o, publisher](Admin& a) { return output(ctl.json, a.list_credentials(given(publisher, o->publisher))); };
  });
  auto* remove = cred->add_subcommand("remove", "remove a credential");
  remove->add_option("USERNAME", o->username)->required();
  auto* remove_realm = remove->add_option("--realm", o->realm);
  remove->callback([&ctl, o, remove_realm] {
    ctl.action = [o, remove_realm](Admin& a) {
      return done(a.remove_credential(o->username, given(remove_realm, o->realm)), "removed credential " + o->username);
    };
  });
  auto* passwd = cred->add_subcommand("passwd", "set a new password (stdin or prompt)");
  passwd->add_option("USERNAME", o->username)->required();
  auto* passwd_realm = passwd->add_option("--realm", o->realm);
  passwd->callback([&ctl, o, passwd_realm] {
    ctl.action = [o, passwd_realm](Admin& a) {
      auto password = read_secret("New password for " + o->username + ": ", true);
      if (!password) return fail(kExitInvalid, password.error());
      return done(a.change_credential_password(o->username, given(passwd_realm, o->realm), *password),
                  "changed password of " + o->username);
    };
  });
}

void setup_ban(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<BanOptions>();
  auto* ban = app.add_subcommand("ban", "banned sources: every request from them is refused (sipgw bans after failed logins too)");
  ban->require_subcommand(1, 1);
  auto* add = ban->add_subcommand("add", "ban a source prefix, for good or for --seconds");
  add->add_option("CIDR", o->cidr, "e.g. 198.51.100.0/24, 2001:db8::/48, or one address")->required();
  auto* seconds = add->add_option("--seconds", o->seconds, "lift the ban after this long (default: never)");
  add->add_option("--note", o->note);
  add->add_flag("--override-allowlist", o->override_allowlist, "ban even where it covers an allowlist entry");
  add->callback([&ctl, o, seconds] {
    ctl.action = [o, seconds](Admin& a) {
      std::optional<std::int64_t> limit;
      if (seconds->count() > 0) {
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(o->seconds.data(), o->seconds.data() + o->seconds.size(), n);
        if (o->seconds.empty() || ec != std::errc{} || end != o->seconds.data() + o->seconds.size()) {
          return fail(kExitInvalid, "--seconds: '" + o->seconds + "' is not a whole number of seconds");
        }
        limit = n;
      }
      auto stored = a.add_ban(o->cidr, limit, o->note, o->override_allowlist, now_ms());
      if (!stored) return fail(stored.error());
      std::cout << "banned " << *stored << (limit ? " for " + std::to_string(*limit) + " s" : std::string(" until removed"))
                << "\n";
      return kExitOk;
    };
  });
  add_list_command(ban, ctl, "list bans in force", [](Admin& a) { return a.list_bans(now_ms()); });
  add_remove_command(ban, ctl, "lift a ban", "CIDR", [](Admin& a, const std::string& cidr) { return a.remove_ban(cidr); });
}

void setup_nonce_secret(CLI::App& app, Ctl& ctl) {
  auto* secret = app.add_subcommand(
      "nonce-secret", "the digest nonce secret every gateway behind one front end shares (so a retry may land on any)");
  secret->require_subcommand(1, 1);
  auto* set = secret->add_subcommand(
      "set", "set (or rotate) it: 64 hex characters from stdin or a prompt, e.g. openssl rand -hex 32; the old one "
             "keeps verifying until the next rotation. Set the same one on every gateway");
  set->callback([&ctl] {
    ctl.action = [](Admin& a) {
      auto hex = read_secret("Nonce secret (64 hex characters): ", false);
      if (!hex) return fail(kExitInvalid, hex.error());
      return done(a.set_nonce_secret(*hex, now_ms()), "nonce secret set");
    };
  });
  secret->add_subcommand("show", "which secrets are set and when (never the secrets)")->callback([&ctl] {
    ctl.action = [&ctl](Admin& a) { return output(ctl.json, a.nonce_secret_status()); };
  });
}

void setup_allowlist(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<AllowlistOptions>();
  auto* allow = app.add_subcommand("allowlist", "source-IP allowlist: CIDR -> publisher (longest match wins)");
  allow->require_subcommand(1, 1);
  auto* add = allow->add_subcommand("add", "allow a source prefix for a publisher");
  add->add_option("CIDR", o->cidr, "e.g. 192.0.2.0/24, 2001:db8::/32, or one address")->required();
  add->add_option("--publisher", o->publisher)->required();
  add->add_option("--note", o->note);
  add->callback([&ctl, o] {
    ctl.action = [o](Admin& a) {
      auto stored = a.add_allowlist(o->cidr, o->publisher, o->note);
      if (!stored) return fail(stored.error());
      std::cout << "added allowlist " << *stored << " -> " << o->publisher << "\n";
      return kExitOk;
    };
  });
  auto* list = allow->add_subcommand("list", "list allowlist entries");
  auto* publisher = list->add_option("--publisher", o->publisher);
  list->callback([&ctl, o, publisher] {
    ctl.action = [&ctl, o, publisher](Admin& a) { return output(ctl.json, a.list_allowlist(given(publisher, o->publisher))); };
  });
  add_remove_command(allow, ctl, "remove an allowlist entry", "CIDR",
                     [](Admin& a, const std::string& cidr) { return a.remove_allowlist(cidr); });
  auto* check = allow->add_subcommand("check", "print the publisher a source IP maps to (exit 1 when none)");
  check->add_option("IP", o->cidr)->required();
  check->callback([&ctl, o] {
    ctl.action = [&ctl, o](Admin& a) {
      auto r = a.check_allowlist(o->cidr);
      if (!r) return fail(r.error());
      if (ctl.json) {
        std::cout << json_text(as_json(*r)) << "\n";
      } else if (std::holds_alternative<std::string>(r->back().second)) {
        std::cout << std::get<std::string>(r->back().second) << " (" << std::get<std::string>((*r)[1].second) << ")\n";
      }
      if (std::holds_alternative<std::monostate>(r->back().second)) {
        return fail(kExitInvalid, o->cidr + " matches no allowlist entry");
      }
      return kExitOk;
    };
  });
}

}  // namespace sipgw::db
