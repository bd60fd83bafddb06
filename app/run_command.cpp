// `tocsin run`, `tocsin collector`, `tocsin router`: the collector half (inputs → decoders → log
// outputs and rules → bus) and the router half (bus → router → receivers), joined by the embedded
// bus in one process or by Kafka across processes; the admin listener; until SIGTERM/SIGINT.
// SIGHUP reopens archive files and reloads the rules.

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
#include "kafka/alert_consumer.hpp"
#include "kafka/alert_producer.hpp"
#include "kafka/client_config.hpp"
#include "kafka/log_output.hpp"
#include "rules/engine.hpp"
#include "rules/rule.hpp"
#include "sinks/alert_bus.hpp"
#include "sinks/alert_router.hpp"
#include "sinks/alertmanager_api.hpp"
#include "sinks/inhibitor.hpp"
#include "sinks/notifier.hpp"
#include "sinks/route_tree.hpp"

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

const char* role_name(daemon_role role) {
  switch (role) {
    case daemon_role::collector:
      return "collector";
    case daemon_role::router:
      return "router";
    case daemon_role::all:
      break;
  }
  return "collector and router";
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

int run_daemon(const std::string& config_file, daemon_role role) {
  const config::config cfg = config::load_file(config_file);
  const bool kafka_bus = cfg.bus.type == "kafka";
  if (role != daemon_role::all && !kafka_bus) {
    throw std::runtime_error(std::string("tocsin ") + role_name(role) +
                             " needs bus.type kafka in " + config_file +
                             " (with the embedded bus, `tocsin run` does both halves)");
  }
  const bool collects = role != daemon_role::router;
  const bool routes = role != daemon_role::collector;
  raise_fd_limit();
  metrics_registry metrics;

  // The router half: alerts come off the bus (or the API) and go to the receivers.
  sinks::notifier_registry notifiers;
  sinks::register_builtin_notifiers(notifiers);
  std::unique_ptr<sinks::alert_router> router;
  std::unique_ptr<kafka::alert_consumer> consumer;
  if (routes) {
    sinks::router_options options;
    options.data_dir = cfg.data_dir;
    if (cfg.admin) options.external_url = "http://" + config::to_string(cfg.admin->listen);
    router = std::make_unique<sinks::alert_router>(cfg, notifiers, metrics, options);
    if (kafka_bus) {
      consumer = std::make_unique<kafka::alert_consumer>(
          cfg.bus.kafka, [&router](const rules::alert& a) { router->receive(a); }, metrics);
    }
  }

  // The collector half: inputs → outputs and rules → bus.
  std::unique_ptr<sinks::alert_bus> bus;
  std::vector<std::shared_ptr<collector::file_archive>> archives;
  std::vector<std::shared_ptr<kafka::log_output>> kafka_outputs;
  std::unique_ptr<rules::alert_engine> engine;
  std::unique_ptr<collector::fanout_sink> outputs;
  std::unique_ptr<collector::ingest_server> ingest;
  if (collects) {
    if (kafka_bus) {
      kafka::alert_producer_options options;
      options.node_name = cfg.node_name;
      options.spool_dir = cfg.data_dir / "spool";
      bus = std::make_unique<kafka::alert_producer>(cfg.bus.kafka, options, metrics);
    } else {
      bus = std::make_unique<sinks::embedded_bus>(
          [&router](const rules::alert& a) { router->receive(a); }, metrics);
    }
    std::vector<std::shared_ptr<collector::event_sink>> sinks;
    for (const auto& out : cfg.outputs) {
      if (out.type == config::output_type::kafka) {
        kafka_outputs.push_back(
            std::make_shared<kafka::log_output>(cfg.bus.kafka, out.topic, metrics));
        sinks.push_back(kafka_outputs.back());
      } else {
        archives.push_back(std::make_shared<collector::file_archive>(out.path, metrics));
        sinks.push_back(archives.back());
      }
    }
    rules::engine_options engine_options;
    engine_options.generator_url = "tocsin://" + cfg.node_name + "/rules/";
    engine = std::make_unique<rules::alert_engine>(load_rules(cfg), metrics, engine_options);
    spdlog::info("{} rules loaded", engine->rules()->definitions().size());
    if (!engine->rules()->definitions().empty()) {
      sinks.push_back(std::make_shared<alerting_sink>(*engine, *bus));
    }
    outputs = std::make_unique<collector::fanout_sink>(std::move(sinks));
  }

  admin_server admin;
  if (cfg.admin) {
    admin.handle("/metrics", [&metrics](const http_request_view&) {
      return http_reply{200, "text/plain; version=0.0.4; charset=utf-8", metrics.render()};
    });
    admin.handle("/healthz", [](const http_request_view&) { return http_reply{200, "", "ok\n"}; });
    if (router) {
      sinks::alertmanager_api_options api;
      api.metrics = &metrics;
      for (const auto& r : cfg.receivers) api.receiver_names.push_back(r.name);
      sinks::register_alertmanager_api(admin, *router, std::move(api));
    }
    admin.start(cfg.admin->listen.host, cfg.admin->listen.port);
    spdlog::info("admin listening on {}:{}", cfg.admin->listen.host, admin.port());
  }

  if (router) router->start();
  if (consumer) consumer->start();
  if (collects) {
    ingest = std::make_unique<collector::ingest_server>(cfg, *outputs, metrics);
    ingest->start();
    for (const auto& b : ingest->describe_bound()) spdlog::info("input {}", b);
  }
  spdlog::info("tocsin {} running as {} on node {}, {} bus", TOCSIN_VERSION, role_name(role),
               cfg.node_name, cfg.bus.type);

  boost::asio::io_context control_io;
  // Windows close, absent rules fire and firing alerts are re-sent on a one-second tick.
  boost::asio::steady_timer ticker(control_io);
  std::function<void(const boost::system::error_code&)> on_tick =
      [&](const boost::system::error_code& ec) {
        if (ec) return;
        if (engine) {
          std::vector<rules::alert> alerts;
          engine->tick(std::chrono::system_clock::now(), alerts);
          bus->publish(std::move(alerts));
        }
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
          if (engine) reload_rules(cfg, *engine, metrics);
          signals.async_wait(on_signal);
          return;
        }
        spdlog::info("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        ticker.cancel();
      };
  signals.async_wait(on_signal);
  control_io.run();

  // Upstream first, so each stage is drained before the one it feeds stops.
  if (ingest) ingest->stop();
  for (auto& a : archives) a->flush();
  for (auto& k : kafka_outputs) k->flush(std::chrono::seconds(5));
  if (auto* embedded = dynamic_cast<sinks::embedded_bus*>(bus.get())) embedded->drain();
  bus.reset();  // the Kafka producer delivers or spools what it still holds
  if (consumer) consumer->stop();
  admin.stop();
  if (router) router->stop();
  spdlog::info("stopped");
  return 0;
}

int run_check_config(const std::string& config_file) {
  try {
    const config::config cfg = config::load_file(config_file);
    std::vector<std::string> errors;
    if (cfg.bus.type == "kafka" || !cfg.bus.kafka.brokers.empty()) {
      errors = kafka::validate(cfg.bus.kafka);
    }
    const auto collect = [&errors](const std::function<void()>& check) {
      try {
        check();
      } catch (const config::config_error& e) {
        errors.insert(errors.end(), e.errors().begin(), e.errors().end());
      }
    };
    collect([&] { rules::load_rule_files(cfg.rules_files, cfg.file.parent_path()); });
    if (cfg.route) collect([&] { sinks::route_tree(*cfg.route, cfg.receivers); });
    collect([&] { sinks::inhibitor{cfg.inhibit_rules}; });
    // A factory validates its own settings (readable password and key files too).
    sinks::notifier_registry notifiers;
    sinks::register_builtin_notifiers(notifiers);
    for (const auto& receiver : cfg.receivers) collect([&] { (void)notifiers.create(receiver); });
    if (!errors.empty()) throw config::config_error(std::move(errors));
  } catch (const config::config_error& e) {
    for (const auto& err : e.errors()) std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  std::printf("%s: ok\n", config_file.c_str());
  return 0;
}

}  // namespace tocsin::app
