// Integration harness: the real sipgw daemon and SIPp peers as child
// processes on loopback, each test on its own free ports and database.
#pragma once

#include "db/admin.h"
#include "db/schema.h"
#include "db/sqlite.h"

#include "../db/temp_db.h"
#include "buyer_scenario.h"
#include "publisher_scenario.h"
#include "sip_probe.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace sipgw::integration {

using namespace std::chrono_literals;

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A port free for both UDP and TCP on 127.0.0.1 right now.
inline int free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(u, reinterpret_cast<sockaddr*>(&a), &len);
    int port = ntohs(a.sin_port);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bool ok = bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(t);
    close(u);
    if (ok && port > 1024) return port;
  }
  return 0;
}

class Process {
 public:
  Process() = default;
  // extra_env: "NAME=value" entries added to this process's environment.
  Process(std::vector<std::string> argv, const std::string& log_path, std::vector<std::string> extra_env = {})
      : log_(log_path) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    // An extra entry replaces the inherited one of its name (getenv takes
    // the first: SSL_CERT_FILE is set on some machines already).
    std::vector<char*> env;
    for (char** e = environ; *e; ++e) {
      const std::string_view entry(*e);
      const auto name = entry.substr(0, entry.find('=') + 1);
      const bool replaced = std::any_of(extra_env.begin(), extra_env.end(),
                                        [&](const std::string& x) { return x.starts_with(name); });
      if (!replaced) env.push_back(*e);
    }
    for (auto& e : extra_env) env.push_back(e.data());
    env.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    // Its own process group, so children it forks (Kamailio's workers) die with it.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    if (posix_spawnp(&pid_, args[0], &actions, &attributes, args.data(), env.data()) != 0) pid_ = -1;
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
  }
  Process(Process&& o) noexcept : pid_(std::exchange(o.pid_, -1)), log_(std::move(o.log_)), status_(o.status_) {}
  Process& operator=(Process&& o) noexcept {
    kill_now();
    pid_ = std::exchange(o.pid_, -1);
    log_ = std::move(o.log_);
    status_ = o.status_;
    return *this;
  }
  // SIGTERM to the group first, so a parent (Kamailio) can reap its workers.
  ~Process() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGTERM);
      auto deadline = std::chrono::steady_clock::now() + 2s;
      while (running() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    }
    kill_now();
  }

  bool running() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = st;
      ::kill(-pid_, SIGKILL);  // anything it left behind in its group
      pid_ = -1;
      return false;
    }
    return true;
  }
  // Exit code, or -1 if it did not exit before the deadline (then killed).
  int wait(std::chrono::milliseconds limit = 30s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (running()) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill_now();
        return -1;
      }
      std::this_thread::sleep_for(10ms);
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  void kill_now() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);  // the whole process group
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  std::string log() const { return slurp(log_); }
  pid_t pid() const { return pid_; }
  // How the process ended, once running() said false ("exit 0", "signal 11").
  std::string ending() const {
    if (WIFSIGNALED(status_)) return "signal " + std::to_string(WTERMSIG(status_));
    return "exit " + std::to_string(WEXITSTATUS(status_));
  }

 private:
  pid_t pid_ = -1;
  std::string log_;
  int status_ = 0;
};

struct HttpReply {
  int status = 0;
  std::string body;
};

// A plain HTTP/1.0 request to 127.0.0.1:port (no client library needed for
// a few endpoints); headers: "Name: value\r\n" lines.
inline HttpReply http_request(int port, const std::string& method, const std::string& path,
                              const std::string& headers = "") {
  HttpReply reply;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return reply;
  }
  std::string request = method + " " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" + headers +
                        (method == "POST" ? "Content-Length: 0\r\n" : "") + "\r\n";
  if (write(fd, request.data(), request.size()) < 0) {
    close(fd);
    return reply;
  }
  std::string raw;
  char buffer[65536];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) raw.append(buffer, static_cast<std::size_t>(n));
  close(fd);
  if (raw.rfind("HTTP/1.", 0) == 0 && raw.size() > 12) reply.status = std::atoi(raw.c_str() + 9);
  if (auto body = raw.find("\r\n\r\n"); body != std::string::npos) reply.body = raw.substr(body + 4);
  return reply;
}

inline HttpReply http_get(int port, const std::string& path) { return http_request(port, "GET", path); }

// Waits for a condition with a generous deadline; says nothing about speed.
template <class F>
bool eventually(F condition, std::chrono::milliseconds limit = 15s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = db::Connection::open(db_path_, db::Connection::Mode::read_write_create);
    ASSERT_TRUE(c);
    db_ = std::move(*c);
    ASSERT_TRUE(db::migrate(db_));
    sip_port_ = free_port();
    buyer_port_ = free_port();
    publisher_port_ = free_port();
  }
  void TearDown() override {
    for (int fd : black_holes_) close(fd);
    if (HasFailure()) {
      // Every daemon the test started (a restart starts a new log).
      for (std::size_t i = 0; i + 1 < gateway_logs_.size(); ++i) {
        std::cerr << "---- sipgw log (daemon " << i + 1 << ") ----\n" << slurp(gateway_logs_[i]) << "\n";
      }
      std::cerr << "---- sipgw log ----\n" << gateway_.log() << "\n";
      for (auto& [name, path] : logs_) {
        std::cerr << "---- " << name << " ----\n" << slurp(path) << "\n";
        std::cerr << "---- " << name << " errors ----\n" << slurp(dir_.file(name + "_errors.log")) << "\n";
      }
    }
  }

  db::Admin admin() { return db::Admin(db_); }
  void ok(const db::AdminResult<void>& r) { ASSERT_TRUE(r) << r.error().message; }

  // Domains, a publisher allowed from 127.0.0.1 and with a digest
  // credential, a campaign with one number routed to one buyer.
  void provision_basic(std::int64_t ring_timeout = 30) {
    auto a = admin();
    ok(a.add_domain("ip.test", "ip", std::nullopt, std::nullopt));
    ok(a.add_domain("digest.test", "digest", std::nullopt, std::nullopt));
    ok(a.add_domain("mixed.test", "digest-or-ip", std::nullopt, std::nullopt));
    ok(a.add_publisher("pub1", "Publisher", std::nullopt));
    ok(a.add_credential("alice", "pub1", std::string("digest.test"), "alice-secret"));
    ok(a.add_credential("alice", "pub1", std::string("mixed.test"), "alice-secret"));
    ASSERT_TRUE(a.add_allowlist("127.0.0.1/32", "pub1", ""));
    ok(a.add_campaign("camp1", "", ring_timeout));
    ok(a.add_number("+18882223333", "camp1", std::nullopt));
    ok(a.add_number("+18882229999", "camp1", std::nullopt));
    ok(a.set_number_enabled("+18882229999", false));
    db::BuyerChanges b;
    b.target = "sip:agentqueue@127.0.0.1:" + std::to_string(buyer_port_);
    b.headers = std::vector<std::string>{"X-Campaign-ID: [campaign_id]"};
    ok(a.add_buyer("buyer1", b));
    ok(a.add_route("camp1", "buyer1", 0, 1));
  }

  // buyer1 answers its challenges with these (stored as sipgwctl would).
  void set_buyer_credentials(const std::string& user, const std::string& password) {
    db::BuyerChanges change;
    change.auth_user = user;
    change.auth_password = password;
    ok(admin().update_buyer("buyer1", change));
  }

  void start_gateway(std::vector<std::string> extra = {}, const std::string& listen_host = "127.0.0.1") {
    std::vector<std::string> argv = {SIPGW_PATH, "--db", db_path_, "--listen", "udp:" + listen_host + ":" + std::to_string(sip_port_),
                                     "--listen", "tcp:" + listen_host + ":" + std::to_string(sip_port_), "--log-level", "debug",
                                     "--poll-interval-ms", "100"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::string probe_host = listen_host;
    if (probe_host.size() > 2 && probe_host.front() == '[') probe_host = probe_host.substr(1, probe_host.size() - 2);
    launch_gateway(argv, SipEndpoint{probe_host == "*" ? "127.0.0.1" : probe_host, sip_port_, false});
  }

  // The gateway with /metrics and /healthz on metrics_port_.
  void start_with_metrics(std::vector<std::string> extra = {}) {
    metrics_port_ = free_port();
    extra.insert(extra.begin(), {"--metrics", "127.0.0.1:" + std::to_string(metrics_port_)});
    start_gateway(extra);
  }
  std::string scrape() {
    auto r = http_get(metrics_port_, "/metrics");
    EXPECT_EQ(r.status, 200);
    return r.body;
  }
  static bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
  }
  // The value of a sample line "name{labels} value" (name with its labels,
  // if any), or -1 when it is not there.
  static double metric(const std::string& text, const std::string& name) {
    const auto at = ("\n" + text).find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::atof(text.c_str() + at + name.size() + 1);
  }

  // Starts sipgw with exactly these arguments and waits until it answers
  // OPTIONS at `ready` (default: UDP on 127.0.0.1 at the test's SIP port).
  void launch_gateway(const std::vector<std::string>& argv, std::optional<SipEndpoint> ready = std::nullopt) {
    gateway_logs_.push_back(dir_.file(gateway_logs_.empty() ? "sipgw.log" : "sipgw-" + std::to_string(gateway_logs_.size() + 1) + ".log"));
    gateway_ = Process(argv, gateway_logs_.back(), gateway_env_);
    auto reply = options_reply(ready.value_or(SipEndpoint{"127.0.0.1", sip_port_, false}), 15s,
                               [&] { return gateway_.running(); });
    ASSERT_TRUE(gateway_.running()) << gateway_.ending() << "\n" << gateway_.log();
    ASSERT_TRUE(reply) << "no answer to OPTIONS\n" << gateway_.log();
  }

  std::string scenario(const std::string& name) { return std::string(SCENARIO_DIR) + "/" + name; }

  // Holds a UDP port on loopback with a socket that reads nothing: a peer
  // that vanished behind a NAT (a closed loopback port would answer ICMP
  // and fail sipgw's request at once). Closed at the end of the test.
  void black_hole(int port) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    black_holes_.push_back(fd);
  }

  // A publisher that takes the answer and then vanishes: killed after its
  // ACK, so no BYE ever comes, and its port black-holed.
  void vanishing_publisher(PublisherPlan plan) {
    plan.buyer_hangs_up = true;  // it would wait for a BYE
    auto p = place(plan);
    EXPECT_TRUE(eventually([&] { return gateway_.log().find("answered by buyer") != std::string::npos; }));
    std::this_thread::sleep_for(200ms);  // its ACK is out
    p.kill_now();
    black_hole(publisher_port_);
  }

  // Writes a scenario generated by the test (for status codes, which SIPp
  // cannot take from -key).
  std::string write_scenario(const std::string& name, const std::string& xml) {
    auto path = dir_.file(name);
    std::ofstream(path) << xml;
    return path;
  }

  Process sipp(const std::string& name, std::vector<std::string> args, const std::string& local_ip = "127.0.0.1") {
    std::vector<std::string> argv = {"sipp", "-i", local_ip, "-nostdin", "-trace_err", "-trace_msg", "-timeout", "30",
                                     "-timeout_error", "-message_file", dir_.file(name + "_messages.log"),
                                     "-error_file", dir_.file(name + "_errors.log")};
    argv.insert(argv.end(), args.begin(), args.end());
    auto log = dir_.file(name + ".log");
    logs_.emplace_back(name, log);
    return Process(argv, log);
  }

  Process buyer(const std::string& file, std::vector<std::string> keys = {}, int port = 0) {
    std::vector<std::string> args = {"-sf", file.find('/') == std::string::npos ? scenario(file) : file, "-p",
                                     std::to_string(port ? port : buyer_port_)};
    // "-m N" in keys overrides the default of one call.
    if (std::find(keys.begin(), keys.end(), "-m") == keys.end()) args.insert(args.end(), {"-m", "1"});
    args.insert(args.end(), keys.begin(), keys.end());
    auto p = sipp(port && port != buyer_port_ ? "buyer-" + std::to_string(port) : "buyer", args);
    std::this_thread::sleep_for(200ms);  // let it bind before the call arrives
    return p;
  }

  Process publisher(const std::string& file, std::vector<std::string> keys, const std::string& from_ip = "127.0.0.1") {
    std::vector<std::string> args = {"127.0.0.1:" + std::to_string(sip_port_),
                                     "-sf", file.find('/') == std::string::npos ? scenario(file) : file,
                                     "-p", std::to_string(publisher_port_)};
    if (std::find(keys.begin(), keys.end(), "-m") == keys.end()) args.insert(args.end(), {"-m", "1"});
    args.insert(args.end(), keys.begin(), keys.end());
    return sipp("publisher", args, from_ip);
  }

  // A buyer that answers and checks the standard headers.
  Process answering_buyer(const BuyerExpectations& e, int port = 0, std::vector<std::string> extra = {}) {
    auto file = write_scenario("buyer-" + std::to_string(++scenarios_) + ".xml", buyer_answer_xml(e));
    return buyer(file, extra, port);
  }

  Process place(const PublisherPlan& plan, std::vector<std::string> extra = {}, const std::string& from_ip = "127.0.0.1") {
    auto file = write_scenario("publisher-" + std::to_string(++scenarios_) + ".xml", publisher_xml(plan));
    return publisher(file, extra, from_ip);
  }

  // Places the plan's call(s) and waits for the publisher and every buyer:
  // SIPp exits 0 only when each call went exactly as its scenario says.
  void expect_calls(std::initializer_list<Process*> buyers, const PublisherPlan& plan,
                    std::vector<std::string> extra = {}, const std::string& from_ip = "127.0.0.1") {
    auto publisher = place(plan, std::move(extra), from_ip);
    EXPECT_EQ(publisher.wait(60s), 0) << "publisher";
    for (auto* b : buyers) EXPECT_EQ(b->wait(), 0) << "buyer";
  }

  nlohmann::json ctl_json(std::vector<std::string> args) {
    std::string cmd = std::string(SIPGWCTL_PATH) + " --db " + db_path_ + " --json";
    for (auto& a : args) cmd += " '" + a + "'";
    cmd += " > " + dir_.file("ctl.out") + " 2>&1";
    int rc = std::system(cmd.c_str());
    auto out = slurp(dir_.file("ctl.out"));
    EXPECT_EQ(rc, 0) << out;
    return nlohmann::json::parse(out, nullptr, false);
  }

  int ctl(std::vector<std::string> args) {
    std::string cmd = std::string(SIPGWCTL_PATH) + " --db " + db_path_;
    for (auto& a : args) cmd += " '" + a + "'";
    cmd += " >> " + dir_.file("ctl.log") + " 2>&1";
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  // Waits for n finished CDRs (a connected call's row, stored at the
  // answer, has no hangup cause yet) and returns them, newest first.
  nlohmann::json calls(std::size_t n) {
    nlohmann::json rows;
    eventually([&] {
      rows = ctl_json({"calls", "list"});
      if (!rows.is_array()) return false;
      std::size_t finished = 0;
      for (const auto& row : rows) finished += row["hangup_cause"].is_null() ? 0 : 1;
      return finished >= n && finished == rows.size();
    });
    return rows;
  }

  test_support::TempDir dir_;
  std::string db_path_ = dir_.file("gw.db");
  db::Connection db_;
  int sip_port_ = 0, buyer_port_ = 0, publisher_port_ = 0, metrics_port_ = 0;
  Process gateway_;
  std::vector<std::string> gateway_logs_;  // one per daemon started, the current one last
  std::vector<std::string> gateway_env_;   // "NAME=value" added to the daemon's environment
  std::vector<std::pair<std::string, std::string>> logs_;
  int scenarios_ = 0;
  std::vector<int> black_holes_;
};

}  // namespace sipgw::integration
