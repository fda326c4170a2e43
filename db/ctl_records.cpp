// sipgwctl init | setting | calls: the database, gateway settings and CDRs.
#include "db/ctl_commands.h"
#include "db/ctl_output.h"
#include "db/ctl_values.h"

#include <iostream>

namespace sipgw::db {

namespace {

struct SettingOptions {
  std::string key, value;
};

struct CallsOptions {
  std::string uuid, campaign, buyer, publisher, since, until;
  std::int64_t limit = 50;
};

}  // namespace

void add_switch_commands(CLI::App* noun, Ctl& ctl, SwitchCommands commands) {
  auto c = std::make_shared<SwitchCommands>(std::move(commands));
  auto key = std::make_shared<std::string>();
  for (auto [verb, help] : {std::pair{"remove", "remove a " + c->noun}, std::pair{"enable", c->enable_help},
                            std::pair{"disable", c->disable_help}}) {
    if (std::string(verb) == "remove") {
      add_remove_command(noun, ctl, help, c->key_name, c->remove);
      continue;
    }
    auto* sub = noun->add_subcommand(verb, help);
    sub->add_option(c->key_name, *key)->required();
    std::string v = verb;
    sub->callback([&ctl, c, key, v] {
      ctl.action = [c, key, v](Admin& a) { return done(c->set_enabled(a, *key, v == "enable"), v + "d " + c->noun + " " + *key); };
    });
  }
}

void add_list_command(CLI::App* noun, Ctl& ctl, const std::string& help, std::function<AdminResult<Records>(Admin&)> list) {
  noun->add_subcommand("list", help)->callback([&ctl, list] {
    ctl.action = [&ctl, list](Admin& a) { return output(ctl.json, list(a)); };
  });
}

void add_remove_command(CLI::App* noun, Ctl& ctl, const std::string& help, const std::string& key_name,
                        std::function<AdminResult<void>(Admin&, const std::string& key)> remove) {
  auto key = std::make_shared<std::string>();
  auto* sub = noun->add_subcommand("remove", help);
  sub->add_option(key_name, *key)->required();
  const std::string what = noun->get_name();
  sub->callback([&ctl, key, what, remove] {
    ctl.action = [key, what, remove](Admin& a) { return done(remove(a, *key), "removed " + what + " " + *key); };
  });
}

void setup_init(CLI::App& app, Ctl& ctl) {
  app.add_subcommand("init", "create the database or migrate it to the current schema")->callback([&ctl] {
    ctl.is_init = true;
    ctl.action = [](Admin&) { return kExitOk; };
  });
}

void setup_setting(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<SettingOptions>();
  auto* setting = app.add_subcommand("setting", "gateway settings (header names, nonce lifetime, ...)");
  setting->require_subcommand(1, 1);
  auto* set = setting->add_subcommand("set", "set a setting");
  set->add_option("KEY", o->key)->required();
  set->add_option("VALUE", o->value)->required();
  set->callback([&ctl, o] { ctl.action = [o](Admin& a) { return done(a.set_setting(o->key, o->value), "set " + o->key); }; });
  add_list_command(setting, ctl, "list every setting with its value", [](Admin& a) { return a.list_settings(); });
}

void setup_calls(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<CallsOptions>();
  auto* calls = app.add_subcommand("calls", "call records (CDRs) written by sipgw");
  calls->require_subcommand(1, 1);
  auto* list = calls->add_subcommand("list", "list recent calls, newest first");
  list->add_option("--limit", o->limit, "at most this many (default 50)");
  auto* campaign = list->add_option("--campaign", o->campaign);
  auto* buyer = list->add_option("--buyer", o->buyer);
  auto* publisher = list->add_option("--publisher", o->publisher);
  list->add_option("--since", o->since, "Unix seconds or YYYY-MM-DD[THH:MM[:SS]] UTC");
  list->add_option("--until", o->until, "Unix seconds or YYYY-MM-DD[THH:MM[:SS]] UTC");
  list->callback([&ctl, o, campaign, buyer, publisher, list] {
    ctl.action = [&ctl, o, campaign, buyer, publisher, list](Admin& a) {
      CallFilter f;
      f.limit = o->limit;
      f.campaign_id = given(campaign, o->campaign);
      f.buyer_id = given(buyer, o->buyer);
      f.publisher_id = given(publisher, o->publisher);
      for (auto [flag, text, field] : {std::tuple{"--since", &o->since, &f.since_ms}, std::tuple{"--until", &o->until, &f.until_ms}}) {
        if (list->count(flag) == 0) continue;
        auto t = parse_time_ms(flag, *text);
        if (!t) return fail(kExitInvalid, t.error());
        *field = *t;
      }
      return output(ctl.json, a.list_calls(f));
    };
  });
  auto* show = calls->add_subcommand("show", "show one call with its buyer attempts");
  show->add_option("UUID", o->uuid)->required();
  show->callback([&ctl, o] {
    ctl.action = [&ctl, o](Admin& a) {
      auto r = a.show_call(o->uuid);
      if (!r) return fail(r.error());
      if (ctl.json) {
        auto j = as_json(r->first);
        j["attempts"] = as_json(r->second);
        std::cout << json_text(j) << "\n";
      } else {
        print_record(std::cout, r->first);
        std::cout << "\n";
        print_table(std::cout, r->second);
      }
      return kExitOk;
    };
  });
}

}  // namespace sipgw::db
