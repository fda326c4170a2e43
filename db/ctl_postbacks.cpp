// sipgwctl postback: where call events are reported, and what failed.
#include "db/ctl_commands.h"
#include "db/ctl_output.h"

#include <iostream>

namespace sipgw::db {

namespace {

struct PostbackOptions {
  PostbackSpec spec;
  std::string campaign, publisher, buyer;
  std::int64_t id = 0;
  std::int64_t limit = 50;
};

}  // namespace

void setup_postback(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<PostbackOptions>();
  auto* pb = app.add_subcommand("postback", "postbacks: HTTP requests sipgw makes on call events (delivered at least once)");
  pb->require_subcommand(1, 1);
  auto* add = pb->add_subcommand("add", "report an event to a URL ([tokens] in the URL, headers and body)");
  add->add_option("--event", o->spec.event, "inbound | connected | converted | completed | blocked | rejected")->required();
  add->add_option("--url", o->spec.url, "http:// or https:// URL; tokens in it are URL-encoded")->required();
  auto* campaign = add->add_option("--campaign", o->campaign, "only this campaign's calls");
  auto* publisher = add->add_option("--publisher", o->publisher, "only this publisher's calls");
  auto* buyer = add->add_option("--buyer", o->buyer, "only calls this buyer answered");
  add->add_option("--method", o->spec.method, "GET (default) or POST");
  add->add_option("--header", o->spec.headers, "'Name: value' ([tokens] allowed); repeat for more");
  add->add_option("--body", o->spec.body,
                  "POST body template: tokens are JSON-escaped with a JSON Content-Type header, else URL-encoded");
  add->callback([&ctl, o, campaign, publisher, buyer] {
    ctl.action = [o, campaign, publisher, buyer](Admin& a) {
      o->spec.campaign_id = given(campaign, o->campaign);
      o->spec.publisher_id = given(publisher, o->publisher);
      o->spec.buyer_id = given(buyer, o->buyer);
      auto id = a.add_postback(o->spec);
      if (!id) return fail(id.error());
      std::cout << "added postback " << *id << " (" << o->spec.event << ")\n";
      return kExitOk;
    };
  });
  add_list_command(pb, ctl, "list postbacks with their pending and failed deliveries",
                   [](Admin& a) { return a.list_postbacks(); });
  auto* remove = pb->add_subcommand("remove", "remove a postback (deliveries already stored still go out)");
  remove->add_option("ID", o->id)->required();
  remove->callback([&ctl, o] {
    ctl.action = [o](Admin& a) { return done(a.remove_postback(o->id), "removed postback " + std::to_string(o->id)); };
  });
  auto* failures = pb->add_subcommand("failures", "deliveries that failed for good, newest first");
  failures->add_option("--limit", o->limit, "at most this many (default 50)");
  failures->callback([&ctl, o] {
    ctl.action = [&ctl, o](Admin& a) { return output(ctl.json, a.list_postback_failures(o->limit)); };
  });
  auto* retry = pb->add_subcommand("retry", "try a failed delivery again (retried for postback.retry_for from now)");
  retry->add_option("ID", o->id, "the delivery id (postback failures)")->required();
  retry->callback([&ctl, o] {
    ctl.action = [o](Admin& a) {
      return done(a.retry_postback(o->id, now_ms()), "delivery " + std::to_string(o->id) + " is pending again");
    };
  });
}

}  // namespace sipgw::db
