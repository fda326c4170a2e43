// The README's run command, as a newcomer runs it: deploy/demo.sh provisions
// the demo database and starts sipgw with its own flags (udp+tcp on one
// loopback address, metrics); the lines it prints then place the demo call
// and show its CDR. Only the ports and the folder differ from the README's,
// so that the test never depends on 5060 being free, and the install and
// build steps are skipped because the suite has just built everything.
#include "harness.h"

#include <regex>

namespace sipgw::integration {
namespace {

class Demo : public GatewayTest {
 protected:
  // The line after `heading` in what demo.sh printed.
  static std::string printed_line(const std::string& output, const std::string& heading) {
    auto at = output.find(heading + "\n");
    if (at == std::string::npos) return {};
    at += heading.size() + 1;
    std::string line = output.substr(at, output.find('\n', at) - at);
    return line.substr(line.find_first_not_of(' '));
  }

  // Runs a printed shell line from the repository's top folder.
  int run(const std::string& line, const std::string& output_file) {
    std::string command = "cd '" + std::string(DEPLOY_DIR) + "/..' && { " + line + "; } > '" + output_file + "' 2>&1";
    int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

TEST_F(Demo, TheReadmeRunCommandStartsAGatewayThatCompletesTheDemoCall) {
  const int metrics_port = free_port();
  const std::string folder = dir_.file("demo");
  Process demo({"bash", std::string(DEPLOY_DIR) + "/demo.sh"}, dir_.file("demo.log"),
               {"SIPGW_DEMO_DIR=" + folder, "SIPGW_DEMO_SIP_PORT=" + std::to_string(sip_port_),
                "SIPGW_DEMO_BUYER_PORT=" + std::to_string(buyer_port_),
                "SIPGW_DEMO_METRICS_PORT=" + std::to_string(metrics_port), "SIPGW_DEMO_SKIP_BUILD=1"});
  auto reply = options_reply({"127.0.0.1", sip_port_, true}, 30s, [&] { return demo.running(); });
  ASSERT_TRUE(demo.running()) << demo.ending() << "\n" << demo.log();
  ASSERT_TRUE(reply) << demo.log();
  ASSERT_TRUE(options_reply({"127.0.0.1", sip_port_, false}, 5s, [&] { return demo.running(); }));

  const std::string output = demo.log();
  const std::string call_line = printed_line(output, "Place a demo call from another shell:");
  const std::string cdr_line = printed_line(output, "Then see its CDR:");
  ASSERT_FALSE(call_line.empty()) << output;
  ASSERT_FALSE(cdr_line.empty()) << output;
  // With the README's ports, the printed lines are the README's lines.
  const std::string readme = slurp(std::string(DEPLOY_DIR) + "/../README.md");
  auto as_readme = [&](std::string line) {
    line = std::regex_replace(line, std::regex("-p " + std::to_string(buyer_port_) + " "), "-p 5070 ");
    line = std::regex_replace(line, std::regex("127\\.0\\.0\\.1:" + std::to_string(sip_port_)), "127.0.0.1:5060");
    return std::regex_replace(line, std::regex(regex_literal(folder)), "demo");
  };
  EXPECT_NE(readme.find(as_readme(call_line)), std::string::npos) << as_readme(call_line);
  EXPECT_NE(readme.find(as_readme(cdr_line)), std::string::npos) << as_readme(cdr_line);

  // The SIPp lines exactly as printed: the publisher's exit code is the call's.
  EXPECT_EQ(run(call_line, dir_.file("call.out")), 0) << slurp(dir_.file("call.out"));
  std::string cdrs;
  EXPECT_TRUE(eventually([&] {
    run(cdr_line, dir_.file("cdr.out"));
    cdrs = slurp(dir_.file("cdr.out"));
    return cdrs.find("demo-buyer") != std::string::npos;
  })) << cdrs;
  EXPECT_NE(cdrs.find("200"), std::string::npos) << cdrs;
  EXPECT_NE(cdrs.find("demo-campaign"), std::string::npos) << cdrs;
  EXPECT_EQ(http_get(metrics_port, "/healthz").status, 200);
  EXPECT_NE(http_get(metrics_port, "/metrics").body.find("sipgw_calls_total{outcome=\"answered\"} 1"), std::string::npos);

  demo.signal(SIGINT);  // demo.sh exec'd sipgw: Ctrl-C drains and stops it
  EXPECT_EQ(demo.wait(30s), 0) << demo.log();
  // A buyer SIPp that never got its call would still run in the background.
  std::system(("pkill -f 'sipp -sn uas -p " + std::to_string(buyer_port_) + " ' 2>/dev/null").c_str());
}

}  // namespace
}  // namespace sipgw::integration
