// `tocsin run`, `tocsin collector`, `tocsin router`: the collector half (inputs → decoders → log
// outputs and rules → bus) and the router half (bus → router → receivers), joined by the embedded
// bus in one process or by Kafka across processes; the admin listener; until SIGTERM/SIGINT,
// which drain within shutdown_timeout. SIGHUP reopens archive files and reloads the config, as
// POST /-/reload does; systemd hears about readiness, reloads, stopping and the watchdog.

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <future>
#include <tuple>

#include "app/commands.hpp"
#include "app/config_check.hpp"
#include "bus/embedded_bus.hpp"
#include "collector/file_archive.hpp"
#include "collector/ingest_server.hpp"
#include "collector/switchable_sink.hpp"
#include "config/config.hpp"
#include "core/admin_server.hpp"
#include "core/fd_budget.hpp"
#include "core/metrics.hpp"
#include "core/systemd_notify.hpp"
#include "core/version_info.hpp"
#include "kafka/alert_consumer.hpp"
#include "kafka/alert_producer.hpp"
#include "kafka/client_config.hpp"
#include "kafka/log_output.hpp"
#include "rules/engine.hpp"
#include "rules/rule.hpp"
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

// Feeds every event to the alert engine on the shard that decoded it; alerts go on the bus.
class alerting_sink final : public collector::event_sink {
 public:
  alerting_sink(rules::alert_engine& engine, bus::alert_bus& bus) : engine_(engine), bus_(bus) {}
  [[nodiscard]] bool accepting() const override { return true; }  // the bus never blocks
  void consume(const collector::event& ev) override {
    thread_local std::vector<rules::alert> alerts;  // no allocation for the 99 % that match nothing
    alerts.clear();
    engine_.on_event(ev, ev.received_at, alerts);
    if (!alerts.empty()) bus_.publish(std::exchange(alerts, {}));
  }

 private:
  rules::alert_engine& engine_;
  bus::alert_bus& bus_;
};

// One configured log output; `key` says what it writes where, so a reload keeps an unchanged
// output (its open files, its producer) and replaces only what changed.
struct log_output {
  std::string key;
  std::shared_ptr<collector::file_archive> archive;  // type file
  std::shared_ptr<kafka::log_output> kafka;          // type kafka
  [[nodiscard]] std::shared_ptr<collector::event_sink> sink() const {
    if (archive) return archive;
    return kafka;
  }
  void flush(std::chrono::milliseconds timeout) const {
    if (archive && !archive->flush(timeout)) {
      spdlog::warn("archive {}: not everything written within {} ms", key, timeout.count());
    }
    if (kafka) kafka->flush(timeout);
  }
};

std::string output_key(const config::output_config& out) {
  if (out.type == config::output_type::kafka) return "kafka:" + out.topic;
  return "file:" + out.path + " max_open_files=" + std::to_string(out.max_open_files) +
         " max_new_paths_per_minute=" + std::to_string(out.max_new_paths_per_minute);
}

// The settings a reload cannot change in a running process: they need a restart.
std::vector<std::string> needs_restart(const config::config& running, const config::config& next) {
  std::vector<std::string> changed;
  const auto same_input = [](const config::input_config& a, const config::input_config& b) {
    return std::tie(a.name, a.type, a.transport_kind, a.listen, a.format, a.timezone, a.tls,
                    a.proxy_protocol) == std::tie(b.name, b.type, b.transport_kind, b.listen,
                                                  b.format, b.timezone, b.tls, b.proxy_protocol);
  };
  if (!std::equal(running.inputs.begin(), running.inputs.end(), next.inputs.begin(),
                  next.inputs.end(), same_input)) {
    changed.emplace_back("inputs");
  }
  if (!(running.limits == next.limits)) changed.emplace_back("limits");
  const auto& rk = running.bus.kafka;
  const auto& nk = next.bus.kafka;
  if (running.bus.type != next.bus.type ||
      std::tie(rk.brokers, rk.topic, rk.group, rk.properties, rk.spool_max_bytes) !=
          std::tie(nk.brokers, nk.topic, nk.group, nk.properties, nk.spool_max_bytes)) {
    changed.emplace_back("bus");
  }
  if (running.admin.has_value() != next.admin.has_value() ||
      (running.admin && (running.admin->listen != next.admin->listen ||
                         running.admin->token_file != next.admin->token_file ||
                         running.admin->max_connections != next.admin->max_connections))) {
    changed.emplace_back("admin");
  }
  if (running.data_dir != next.data_dir) changed.emplace_back("data_dir");
  if (running.node_name != next.node_name) changed.emplace_back("node_name");
  return changed;
}

struct reload_outcome {
  bool ok = false;
  std::string message;  // the errors, or what was applied
};

// A daemon of one role. Inputs, limits, bus, admin listener, data_dir and node_name are fixed
// for the life of the process; rules, routes, inhibit rules, receivers and outputs follow
// reloads (SIGHUP, POST /-/reload).
class daemon {
 public:
  daemon(std::filesystem::path file, daemon_role role, config::config cfg)
      : file_(std::move(file)),
        role_(role),
        startup_(std::move(cfg)),
        current_(startup_),
        reloads_ok_(metrics_.get_counter("tocsin_config_reloads_total", "Config reloads by result.",
                                         {{"result", "success"}})),
        reloads_failed_(metrics_.get_counter("tocsin_config_reloads_total",
                                             "Config reloads by result.", {{"result", "failure"}})),
        last_reload_ok_(metrics_.get_gauge("tocsin_config_last_reload_successful",
                                           "1 if the last config reload succeeded, else 0.")) {
    last_reload_ok_.set(1);
  }

  int run();

 private:
  [[nodiscard]] bool collects() const { return role_ != daemon_role::router; }
  [[nodiscard]] bool routes() const { return role_ != daemon_role::collector; }

  void start_router();
  void start_collector(std::shared_ptr<const rules::compiled_rules> rules);
  void start_admin();
  // `cfg`'s outputs, reusing the running ones with the same key. May throw (a Kafka output).
  [[nodiscard]] std::vector<log_output> outputs_for(const config::config& cfg);
  // What the shards hand every event to: the outputs, and the rules when there are any.
  std::shared_ptr<collector::event_sink> fanout(const std::vector<log_output>& outputs,
                                                bool with_rules);
  reload_outcome reload();
  reload_outcome apply(const std::filesystem::path& file);
  // "" when ready; else why not (for /readyz).
  [[nodiscard]] std::string not_ready_reason() const;
  void shut_down();

  const std::filesystem::path file_;
  const daemon_role role_;
  const config::config startup_;  // the ingest server keeps references into it
  config::config current_;        // control thread only
  metrics_registry metrics_;
  counter& reloads_ok_;
  counter& reloads_failed_;
  gauge& last_reload_ok_;

  // Connections and archive files take from it; the rest of RLIMIT_NOFILE is a reserve. Declared
  // before the outputs and the ingest server, so it outlives them.
  std::unique_ptr<fd_budget> fds_;
  boost::asio::io_context control_io_;
  sinks::notifier_registry notifiers_;
  std::unique_ptr<sinks::alert_router> router_;
  std::unique_ptr<kafka::alert_consumer> consumer_;
  std::unique_ptr<bus::alert_bus> bus_;
  kafka::alert_producer* producer_ = nullptr;  // bus_ when it is Kafka
  std::unique_ptr<rules::alert_engine> engine_;
  std::vector<log_output> outputs_;
  std::unique_ptr<collector::switchable_sink> sink_;
  std::unique_ptr<collector::ingest_server> ingest_;
  admin_server admin_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};  // the control loop has ended
};

void daemon::start_router() {
  sinks::register_builtin_notifiers(notifiers_);
  sinks::router_options options;
  options.data_dir = startup_.data_dir;
  if (startup_.admin) options.external_url = "http://" + config::to_string(startup_.admin->listen);
  router_ = std::make_unique<sinks::alert_router>(startup_, notifiers_, metrics_, options);
  if (startup_.bus.type == "kafka") {
    consumer_ = std::make_unique<kafka::alert_consumer>(
        startup_.bus.kafka, [this](const rules::alert& a) { router_->receive(a); }, metrics_);
  }
}

void daemon::start_collector(std::shared_ptr<const rules::compiled_rules> rules) {
  if (startup_.bus.type == "kafka") {
    kafka::alert_producer_options options;
    options.node_name = startup_.node_name;
    options.spool_dir = startup_.data_dir / "spool";
    auto producer = std::make_unique<kafka::alert_producer>(startup_.bus.kafka, options, metrics_);
    producer_ = producer.get();
    bus_ = std::move(producer);
  } else {
    bus_ = std::make_unique<bus::embedded_bus>(
        [this](const rules::alert& a) { router_->receive(a); }, metrics_);
  }
  rules::engine_options engine_options;
  engine_options.generator_url = "tocsin://" + startup_.node_name + "/rules/";
  engine_ = std::make_unique<rules::alert_engine>(std::move(rules), metrics_, engine_options);
  const std::size_t rule_count = engine_->rules()->definitions().size();
  spdlog::info("{} rules loaded", rule_count);
  outputs_ = outputs_for(startup_);
  sink_ = std::make_unique<collector::switchable_sink>(fanout(outputs_, rule_count > 0));
}

std::vector<log_output> daemon::outputs_for(const config::config& cfg) {
  std::vector<log_output> out;
  for (const auto& o : cfg.outputs) {
    const std::string key = output_key(o);
    const auto has_key = [&](const log_output& x) { return x.key == key; };
    if (std::any_of(out.begin(), out.end(), has_key)) {
      spdlog::warn("{}output {} is listed twice; it is written once",
                   config::location_prefix(o.where), key);
      continue;
    }
    if (auto same = std::find_if(outputs_.begin(), outputs_.end(), has_key);
        same != outputs_.end()) {
      out.push_back(*same);
    } else if (o.type == config::output_type::kafka) {
      // The producer settings are the bus's, which only a restart changes.
      out.push_back({key, nullptr,
                     std::make_shared<kafka::log_output>(startup_.bus.kafka, o.topic, metrics_)});
    } else {
      collector::file_archive_limits limits;
      limits.max_open_files = o.max_open_files;
      limits.max_new_paths_per_minute = o.max_new_paths_per_minute;
      limits.fds = fds_.get();
      out.push_back(
          {key, std::make_shared<collector::file_archive>(o.path, metrics_, limits), nullptr});
    }
  }
  return out;
}

std::shared_ptr<collector::event_sink> daemon::fanout(const std::vector<log_output>& outputs,
                                                      bool with_rules) {
  std::vector<std::shared_ptr<collector::event_sink>> sinks;
  for (const auto& o : outputs) sinks.push_back(o.sink());
  if (with_rules) sinks.push_back(std::make_shared<alerting_sink>(*engine_, *bus_));
  return std::make_shared<collector::fanout_sink>(std::move(sinks));
}

void daemon::start_admin() {
  admin_.handle("/metrics", [this](const http_request_view&) {
    return http_reply{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render()};
  });
  admin_.handle("/healthz", [](const http_request_view&) { return http_reply{200, "", "ok\n"}; });
  admin_.handle("/readyz", [this](const http_request_view&) {
    const std::string why = not_ready_reason();
    return why.empty() ? http_reply{200, "", "ready\n"} : http_reply{503, "", why + "\n"};
  });
  // Prometheus' and Alertmanager's convention: POST, 200 when applied, 500 with the errors.
  admin_.handle("/-/reload", [this](const http_request_view& req) {
    if (req.method != "POST" && req.method != "PUT") {
      return http_reply{405, "", "use POST to reload\n"};
    }
    // Reloads run on the control thread, one at a time, like SIGHUP's.
    auto done = std::make_shared<std::promise<reload_outcome>>();
    auto result = done->get_future();
    boost::asio::post(control_io_, [this, done] { done->set_value(reload()); });
    while (result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      if (stopping_) return http_reply{503, "", "shutting down\n"};
    }
    const reload_outcome outcome = result.get();
    return http_reply{outcome.ok ? 200U : 500U, "", outcome.message + "\n"};
  });
  if (router_) {
    sinks::alertmanager_api_options api;
    api.metrics = &metrics_;
    for (const auto& r : startup_.receivers) api.receiver_names.push_back(r.name);
    sinks::register_alertmanager_api(admin_, *router_, std::move(api));
  }
  if (std::string token = read_admin_token(startup_); !token.empty()) {
    admin_.require_token(std::move(token), {"/healthz"});
  }
  admin_limits limits;
  limits.max_connections = startup_.admin->max_connections;
  admin_.set_limits(limits);
  admin_.set_metrics(metrics_);
  admin_.start(startup_.admin->listen.host, startup_.admin->listen.port);
  spdlog::info("admin listening on {}:{}", startup_.admin->listen.host, admin_.port());
}

std::string daemon::not_ready_reason() const {
  if (stopping_) return "shutting down";
  if (!started_) return "starting";
  if (producer_ != nullptr && !producer_->connected()) {
    return "not connected to Kafka yet (alerts are spooled meanwhile)";
  }
  if (consumer_ && !consumer_->assigned()) return "no Kafka partitions assigned yet";
  return {};
}

reload_outcome daemon::reload() {
  systemd::notify_reloading();
  reload_outcome outcome;
  try {
    outcome = apply(file_);
  } catch (const std::exception& e) {
    outcome = {false, e.what()};
  }
  (outcome.ok ? reloads_ok_ : reloads_failed_).inc();
  last_reload_ok_.set(outcome.ok ? 1 : 0);
  if (outcome.ok) {
    spdlog::info("config reloaded: {}", outcome.message);
  } else {
    spdlog::error("config reload refused, the running config stays:\n{}", outcome.message);
  }
  systemd::notify_ready("reloaded");
  return outcome;
}

reload_outcome daemon::apply(const std::filesystem::path& file) {
  checked_config next;
  try {
    next = check_config_file(file);
  } catch (const config::config_error& e) {
    next.errors = e.errors();
  }
  if (!next.errors.empty()) {
    std::string message;
    for (const auto& e : next.errors) message += (message.empty() ? "" : "\n") + e;
    return {false, message};
  }
  for (const std::string& section : needs_restart(startup_, next.cfg)) {
    spdlog::warn("reload: {} changed; that takes a restart, the running {} stay as they are",
                 section, section);
  }
  // What can still fail is built first; then everything switches.
  std::vector<log_output> next_outputs;
  if (engine_) next_outputs = outputs_for(next.cfg);
  if (router_) router_->reconfigure(next.cfg, notifiers_);
  std::size_t rule_count = 0;
  if (engine_) {
    rule_count = next.rules->definitions().size();
    engine_->replace_rules(next.rules);
    std::vector<log_output> previous = std::exchange(outputs_, std::move(next_outputs));
    auto retired = sink_->exchange(fanout(outputs_, rule_count > 0));
    ingest_->wait_for_shards();  // from here on no shard uses `retired`
    for (const log_output& old : previous) {
      const bool kept = std::any_of(outputs_.begin(), outputs_.end(),
                                    [&](const log_output& o) { return o.key == old.key; });
      if (!kept) old.flush(std::chrono::seconds(5));
    }
    sink_->forget_previous();  // written: an input that acknowledges need not wait for it
  }
  current_ = std::move(next.cfg);
  return {true, std::to_string(rule_count) + " rules, " +
                    std::to_string(current_.receivers.size()) + " receivers, " +
                    std::to_string(current_.outputs.size()) + " outputs"};
}

int daemon::run() {
  raise_fd_limit();
  fds_ = std::make_unique<fd_budget>(fd_budget::capacity_from_rlimit());
  spdlog::info(
      "descriptors: {} for connections and archive files, the rest kept for the admin "
      "API, receivers and Kafka",
      fds_->capacity());
  if (routes()) start_router();
  if (collects()) {
    start_collector(std::make_shared<const rules::compiled_rules>(
        rules::load_rule_files(startup_.rules_files, startup_.file.parent_path())));
  }
  if (startup_.admin) start_admin();
  if (router_) router_->start();
  if (consumer_) consumer_->start();
  if (collects()) {
    ingest_ = std::make_unique<collector::ingest_server>(startup_, *sink_, metrics_, 0, fds_.get());
    ingest_->start();
    for (const auto& b : ingest_->describe_bound()) spdlog::info("input {}", b);
  }
  started_ = true;
  const std::string status =
      fmt::format("tocsin {} running as {} on node {}, {} bus", TOCSIN_VERSION, role_name(role_),
                  startup_.node_name, startup_.bus.type);
  spdlog::info("{}", status);
  systemd::notify_ready(status);

  // Windows close, absent rules fire and firing alerts are re-sent on a one-second tick.
  boost::asio::steady_timer ticker(control_io_);
  std::function<void(const boost::system::error_code&)> on_tick =
      [&](const boost::system::error_code& ec) {
        if (ec) return;
        if (engine_) {
          std::vector<rules::alert> alerts;
          engine_->tick(std::chrono::system_clock::now(), alerts);
          bus_->publish(std::move(alerts));
        }
        ticker.expires_after(std::chrono::seconds(1));
        ticker.async_wait(on_tick);
      };
  ticker.expires_after(std::chrono::seconds(1));
  ticker.async_wait(on_tick);

  boost::asio::steady_timer watchdog(control_io_);
  const auto watchdog_every = systemd::watchdog_interval();
  std::function<void(const boost::system::error_code&)> on_watchdog =
      [&](const boost::system::error_code& ec) {
        if (ec) return;
        systemd::notify_watchdog();
        watchdog.expires_after(watchdog_every);
        watchdog.async_wait(on_watchdog);
      };
  if (watchdog_every.count() > 0) {
    watchdog.expires_after(watchdog_every);
    watchdog.async_wait(on_watchdog);
  }

  boost::asio::signal_set signals(control_io_, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          spdlog::info("SIGHUP: reopening archive files, reloading the config");
          for (const auto& o : outputs_) {
            if (o.archive) o.archive->reopen();
          }
          reload();
          signals.async_wait(on_signal);
          return;
        }
        spdlog::info("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        ticker.cancel();
        watchdog.cancel();
        signals.cancel();
      };
  signals.async_wait(on_signal);
  control_io_.run();  // until a signal cancels the timers
  stopping_ = true;
  shut_down();
  return 0;
}

// Upstream first, so each stage is drained before the one it feeds stops; all within
// shutdown_timeout. What is still pending then is not lost: the Kafka spool, router.db and
// uncommitted offsets carry it over to the next start.
void daemon::shut_down() {
  systemd::notify_stopping();
  const auto deadline = std::chrono::steady_clock::now() + current_.shutdown_timeout;
  const auto left = [&] {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  if (ingest_) ingest_->stop();
  for (const auto& o : outputs_) o.flush(left());
  if (auto* embedded = dynamic_cast<bus::embedded_bus*>(bus_.get())) embedded->drain();
  bus_.reset();  // the Kafka producer delivers or spools what it still holds
  if (consumer_) consumer_->stop();
  if (router_ && !router_->drain(std::chrono::steady_clock::now() + left())) {
    spdlog::warn(
        "shutdown_timeout reached with notifications still being sent; they are sent "
        "again after the next start");
  }
  admin_.stop();
  if (router_) router_->stop();
  spdlog::info("stopped");
}

}  // namespace

int run_daemon(const std::string& config_file, daemon_role role) {
  config::config cfg = load_config_to_start(config_file);
  if (role != daemon_role::all && cfg.bus.type != "kafka") {
    throw std::runtime_error(std::string("tocsin ") + role_name(role) +
                             " needs bus.type kafka in " + config_file +
                             " (with the embedded bus, `tocsin run` does both halves)");
  }
  daemon d(config_file, role, std::move(cfg));
  return d.run();
}

int run_check_config(const std::string& config_file) {
  std::vector<std::string> errors;
  try {
    errors = check_config_file(config_file).errors;
  } catch (const config::config_error& e) {
    errors = e.errors();
  }
  for (const auto& err : errors) std::fprintf(stderr, "%s\n", err.c_str());
  if (!errors.empty()) return 1;
  std::printf("%s: ok\n", config_file.c_str());
  return 0;
}

}  // namespace tocsin::app
