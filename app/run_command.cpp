// `tocsin run`: inputs → decoders → log outputs and rules → embedded bus → router, with the
// admin listener, until SIGTERM/SIGINT. SIGHUP reopens archive files and reloads the rules.

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>

#include "app/commands.hpp"
#include "collector/file_archive.hpp"
#include "collector/ingest_server.hpp"
#include "config/config.hpp"
#include "core/admin_server.hpp"
#include "core/metrics.hpp"
#include "core/version_info.hpp"
#include "rules/engine.hpp"
#include "rules/rule.hpp"
#include "sinks/alert_bus.hpp"
#include "sinks/minimal_router.hpp"

namespace tocsin::app {
namespace {

// Each TCP connection is a descriptor; the default soft limit (1024) is below max_connections.
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::vector<std::shared_ptr<collector::file_archive>> make_archives(const config::config& cfg,
                                                                    metrics_registry& metrics) {
  std::vector<std::shared_ptr<collector::file_archive>> archives;
  for (const auto& out : cfg.outputs) {
    if (out.type == config::output_type::kafka) {
      throw std::runtime_error(out.where.file + ":" + std::to_string(out.where.line) + ":" +
                               std::to_string(out.where.column) +
                               ": outputs: type kafka is not available in this build yet");
    }
    archives.push_back(std::make_shared<collector::file_archive>(out.path, metrics));
  }
  return archives;
}

std::shared_ptr<const rules::compiled_rules> load_rules(const config::config& cfg) {
  return std::make_shared<const rules::compiled_rules>(
      rules::load_rule_files(cfg.rules_files, cfg.file.parent_path()));
}

// Feeds every event to the alert engine on the shard that decoded it; alerts go on the bus.
class alerting_sink final : public collector::event_sink {
 public:
  alerting_sink(rules::alert_engine& engine, sinks::alert_bus& bus) : engine_(engine), bus_(bus) {}
  [[nodiscard]] bool accepting() const override { return true; }  // the bus never blocks
  void consume(const collector::event& ev) override {
    thread_local std::vector<rules::alert> alerts;  // no allocation for the 99 % that match nothing
    alerts.clear();
    engine_.on_event(ev, ev.received_at, alerts);
    if (!alerts.empty()) bus_.publish(std::exchange(alerts, {}));
  }

 private:
  rules::alert_engine& engine_;
  sinks::alert_bus& bus_;
};

// Off the hot path: reads and compiles the rule files again; the engine keeps the state of
// unchanged rules. A broken rule set is refused and the old one keeps running.
void reload_rules(const config::config& cfg, rules::alert_engine& engine,
                  metrics_registry& metrics) {
  const auto count = [&](const char* result) {
    metrics
        .get_counter("tocsin_rules_reloads_total", "Rule reloads by result.", {{"result", result}})
        .inc();
  };
  try {
    auto fresh = load_rules(cfg);
    const std::size_t n = fresh->definitions().size();
    engine.replace_rules(std::move(fresh));
    count("success");
    spdlog::info("rules reloaded: {} rules", n);
  } catch (const std::exception& e) {
    count("failure");
    spdlog::error("rules reload refused, the previous rules keep running:\n{}", e.what());
  }
}

}  // namespace

int run_daemon(const std::string& config_file) {
  const config::config cfg = config::load_file(config_file);
  raise_fd_limit();
  if (cfg.bus.type != "embedded") {
    spdlog::warn("bus.type {} is not available in this build; the embedded bus is used",
                 cfg.bus.type);
  }

  metrics_registry metrics;
  auto archives = make_archives(cfg, metrics);
  std::vector<std::shared_ptr<collector::event_sink>> sinks(archives.begin(), archives.end());

  sinks::minimal_router router(cfg, metrics);
  sinks::embedded_bus bus([&router](const rules::alert& a) { router.route(a); }, metrics);
  rules::engine_options engine_options;
  engine_options.generator_url = "tocsin://" + cfg.node_name + "/rules/";
  rules::alert_engine engine(load_rules(cfg), metrics, engine_options);
  spdlog::info("{} rules loaded", engine.rules()->definitions().size());
  if (!engine.rules()->definitions().empty()) {
    sinks.push_back(std::make_shared<alerting_sink>(engine, bus));
  }
  collector::fanout_sink outputs(std::move(sinks));

  admin_server admin;
  if (cfg.admin) {
    admin.handle("/metrics", [&metrics](const http_request_view&) {
      return http_reply{200, "text/plain; version=0.0.4; charset=utf-8", metrics.render()};
    });
    admin.handle("/healthz", [](const http_request_view&) { return http_reply{200, "", "ok\n"}; });
    admin.start(cfg.admin->listen.host, cfg.admin->listen.port);
    spdlog::info("admin listening on {}:{}", cfg.admin->listen.host, admin.port());
  }

  collector::ingest_server ingest(cfg, outputs, metrics);
  ingest.start();
  for (const auto& b : ingest.describe_bound()) spdlog::info("input {}", b);
  spdlog::info("tocsin {} running as node {}", TOCSIN_VERSION, cfg.node_name);

  boost::asio::io_context control_io;
  // Windows close, absent rules fire and firing alerts are re-sent on a one-second tick.
  boost::asio::steady_timer ticker(control_io);
  std::function<void(const boost::system::error_code&)> on_tick =
      [&](const boost::system::error_code& ec) {
        if (ec) return;
        std::vector<rules::alert> alerts;
        engine.tick(std::chrono::system_clock::now(), alerts);
        bus.publish(std::move(alerts));
        ticker.expires_after(std::chrono::seconds(1));
        ticker.async_wait(on_tick);
      };
  ticker.expires_after(std::chrono::seconds(1));
  ticker.async_wait(on_tick);

  boost::asio::signal_set signals(control_io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          spdlog::info("SIGHUP: reopening archive files, reloading rules");
          for (auto& a : archives) a->reopen();
          reload_rules(cfg, engine, metrics);
          signals.async_wait(on_signal);
          return;
        }
        spdlog::info("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        ticker.cancel();
      };
  signals.async_wait(on_signal);
  control_io.run();

  ingest.stop();
  for (auto& a : archives) a->flush();
  bus.drain();
  admin.stop();
  spdlog::info("stopped");
  return 0;
}

int run_check_config(const std::string& config_file) {
  try {
    const config::config cfg = config::load_file(config_file);
    rules::load_rule_files(cfg.rules_files, cfg.file.parent_path());
  } catch (const config::config_error& e) {
    for (const auto& err : e.errors()) std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  std::printf("%s: ok\n", config_file.c_str());
  return 0;
}

}  // namespace tocsin::app
