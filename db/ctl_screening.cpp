// sipgwctl block: who may not call (block lists for screening).
#include "db/ctl_commands.h"
#include "db/ctl_output.h"

#include <fstream>
#include <iostream>

namespace sipgw::db {

namespace {

struct BlockOptions {
  std::string entry, campaign, note, file;
};

}  // namespace

void setup_block(CLI::App& app, Ctl& ctl) {
  auto o = std::make_shared<BlockOptions>();
  auto* block = app.add_subcommand(
      "block", "block lists: callers refused before any buyer is dialled (global, or per campaign with --campaign)");
  block->require_subcommand(1, 1);
  auto* add = block->add_subcommand("add", "block a caller: anonymous, +E164, or +DIGITS* for a prefix");
  add->add_option("ENTRY", o->entry)->required();
  auto* campaign = add->add_option("--campaign", o->campaign, "only for this campaign (default: every campaign)");
  add->add_option("--note", o->note, "why, for the list");
  add->callback([&ctl, o, campaign] {
    ctl.action = [o, campaign](Admin& a) {
      auto stored = a.add_block(o->entry, given(campaign, o->campaign), o->note, now_ms());
      if (!stored) return fail(stored.error());
      std::cout << "blocked " << *stored << (campaign->count() ? " for campaign " + o->campaign : std::string()) << "\n";
      return kExitOk;
    };
  });
  auto* list = block->add_subcommand("list", "list block entries (with --campaign: the campaign's and the global ones)");
  auto* list_campaign = list->add_option("--campaign", o->campaign);
  list->callback([&ctl, o, list_campaign] {
    ctl.action = [&ctl, o, list_campaign](Admin& a) {
      return output(ctl.json, a.list_blocks(given(list_campaign, o->campaign)));
    };
  });
  auto* remove = block->add_subcommand("remove", "lift a block entry");
  remove->add_option("ENTRY", o->entry)->required();
  auto* remove_campaign = remove->add_option("--campaign", o->campaign, "the campaign's list (default: the global one)");
  remove->callback([&ctl, o, remove_campaign] {
    ctl.action = [o, remove_campaign](Admin& a) {
      return done(a.remove_block(o->entry, given(remove_campaign, o->campaign)), "unblocked " + o->entry);
    };
  });
  auto* import = block->add_subcommand("import", "block every entry of a file (one a line, all or nothing; - is stdin)");
  import->add_option("FILE", o->file)->required();
  auto* import_campaign = import->add_option("--campaign", o->campaign, "only for this campaign (default: every campaign)");
  import->callback([&ctl, o, import_campaign] {
    ctl.action = [o, import_campaign](Admin& a) {
      std::ifstream file;
      if (o->file != "-") {
        file.open(o->file);
        if (!file) return fail(kExitInvalid, "cannot open " + o->file);
      }
      auto added = a.import_blocks(o->file == "-" ? std::cin : file, given(import_campaign, o->campaign), now_ms());
      if (!added) return fail(added.error());
      std::cout << "imported " << *added << " new block entr" << (*added == 1 ? "y" : "ies") << "\n";
      return kExitOk;
    };
  });
}

}  // namespace sipgw::db
