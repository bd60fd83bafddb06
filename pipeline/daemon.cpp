// The daemon's wiring, in reading order: the collector half (inputs → decoders → log outputs,
// and rules → bus) and the router half (bus → router → receivers), joined by the embedded bus in
// one process or by Kafka across processes; the admin listener; the control thread's timers and
// signals. SIGTERM/SIGINT drain within shutdown_timeout. SIGHUP reopens archive files and
// reloads the config, as POST /-/reload does; systemd hears about readiness, reloads, stopping
// and the watchdog.

#include "pipeline/daemon.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "config/config.hpp"
#include "core/admin_server.hpp"
#include "core/clock.hpp"
#include "core/fd_budget.hpp"
#include "core/metrics.hpp"
#include "core/systemd_notify.hpp"
#include "core/version_info.hpp"
#include "pipeline/collector_pipeline.hpp"
#include "pipeline/config_check.hpp"
#include "pipeline/needs_restart.hpp"
#include "pipeline/oncall_secrets.hpp"
#include "pipeline/router_pipeline.hpp"
#include "rules/event_filter.hpp"
#include "rules/rule.hpp"
#include "rules/rules_api.hpp"
#include "search/archive_search.hpp"
#include "search/search_api.hpp"
#include "search/tail_api.hpp"
#include "sinks/alertmanager_api.hpp"
#include "sinks/alertmanager_config_text.hpp"
#include "sinks/oncall_api.hpp"
#include "ui/ui_assets.hpp"

namespace tocsin::pipeline {
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
  if (role == daemon_role::collector) return "collector";
  if (role == daemon_role::router) return "router";
  return "collector and router";
}

// Calls `fn` on `io`'s thread every `interval`, until cancel().
class periodic_timer {
 public:
  periodic_timer(boost::asio::io_context& io, std::chrono::steady_clock::duration interval,
                 std::function<void()> fn)
      : timer_(io), interval_(interval), fn_(std::move(fn)) {
    schedule();
  }
  // A wait that had already expired still completes without an error: the flag, not the
  // error code, is what keeps it from running and re-arming after cancel().
  void cancel() {
    cancelled_ = true;
    timer_.cancel();
  }

 private:
  void schedule() {
    timer_.expires_after(interval_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || cancelled_) return;
      fn_();
      schedule();
    });
  }

  bool cancelled_ = false;  // io's thread only
  boost::asio::steady_timer timer_;
  const std::chrono::steady_clock::duration interval_;
  const std::function<void()> fn_;
};

struct reload_outcome {
  bool ok = false;
  std::string message;  // the errors, or what was applied
};

// A daemon of one role. Inputs, limits, bus, admin listener, data_dir and node_name are fixed
// for the life of the process; rules, routes, inhibit rules, receivers and outputs follow
// reloads (SIGHUP, POST /-/reload), which run on the control thread one at a time.
class daemon {
 public:
  daemon(std::filesystem::path file, daemon_role role, config::config cfg);
  int run();

 private:
  void start_admin();
  reload_outcome reload();
  reload_outcome apply(const std::filesystem::path& file);
  // "" when ready; else why not (for /readyz).
  [[nodiscard]] std::string not_ready_reason() const;
  void shut_down();

  const std::filesystem::path file_;
  const daemon_role role_;
  const config::config startup_;  // the halves keep references into it
  config::config current_;        // control thread only
  metrics_registry metrics_;
  counter& reloads_ok_;
  counter& reloads_failed_;
  gauge& last_reload_ok_;

  // Connections and archive files take from it; the rest of RLIMIT_NOFILE is a reserve.
  std::unique_ptr<fd_budget> fds_;
  boost::asio::io_context control_io_;  // the control thread: timers, signals, reloads
  // Null when the role does not run that half. shut_down() stops and releases them in its
  // written order; declaration order matters only when start-up throws: then the admin listener
  // (its API uses the router) and the collector (it publishes on the router's in-process bus)
  // are destroyed before the router, and all of them before fds_ and metrics_.
  std::unique_ptr<router_pipeline> router_;
  std::unique_ptr<collector_pipeline> collector_;
  admin_server admin_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};  // the control loop has ended
};

daemon::daemon(std::filesystem::path file, daemon_role role, config::config cfg)
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

// Start-up, downstream first: the router half (so the in-process bus exists), the collector half
// (rules, outputs, its end of the bus), the admin listener, then the router's ticks and Kafka
// consumer, and last the inputs; then READY=1 and the control loop until SIGTERM or SIGINT.
int daemon::run() {
  raise_fd_limit();
  fds_ = std::make_unique<fd_budget>(fd_budget::capacity_from_rlimit());
  spdlog::info(
      "descriptors: {} for connections and archive files, the rest kept for the admin "
      "API, receivers and Kafka",
      fds_->capacity());
  // Routers load the rules too: with a Kafka bus they evaluate the cluster-wide windows.
  auto rules = std::make_shared<const rules::compiled_rules>(
      rules::load_rule_files(startup_.rules_files, startup_.file.parent_path()));
  if (role_ != daemon_role::collector)
    router_ = std::make_unique<router_pipeline>(startup_, rules, metrics_);
  if (role_ != daemon_role::router) {
    collector_ = std::make_unique<collector_pipeline>(startup_, std::move(rules),
                                                      router_ ? router_->in_process_bus() : nullptr,
                                                      metrics_, fds_.get());
  }
  if (startup_.admin) start_admin();
  if (router_) router_->start();
  if (collector_) {
    collector_->start();
    for (const auto& b : collector_->describe_bound()) spdlog::info("input {}", b);
  }
  // Taken over from here (queued until the control loop runs): a SIGHUP from a script that saw
  // the ports open must not kill the default way.
  boost::asio::signal_set signals(control_io_, SIGINT, SIGTERM, SIGHUP);
  started_ = true;
  const std::string status =
      fmt::format("tocsin {} running as {} on node {}, {} bus", TOCSIN_VERSION, role_name(role_),
                  startup_.node_name, startup_.bus.type);
  spdlog::info("{}", status);
  systemd::notify_ready(status);

  // Windows close, absent rules fire and firing alerts are re-sent on a one-second tick.
  periodic_timer ticker(control_io_, std::chrono::seconds(1), [this] {
    const auto now = real_clock().now();
    if (collector_) collector_->tick(now);
    if (router_) router_->tick(now);
  });
  std::optional<periodic_timer> watchdog;
  if (const auto every = systemd::watchdog_interval(); every.count() > 0) {
    watchdog.emplace(control_io_, every, [] { systemd::notify_watchdog(); });
  }
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          spdlog::info("SIGHUP: reopening archive files, reloading the config");
          if (collector_) collector_->reopen_archives();
          reload();
          signals.async_wait(on_signal);
          return;
        }
        spdlog::info("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        ticker.cancel();
        if (watchdog) watchdog->cancel();
        signals.cancel();
      };
  signals.async_wait(on_signal);
  control_io_.run();  // until a signal cancels the timers
  stopping_ = true;
  shut_down();
  return 0;
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
  ui::register_ui(admin_);
  if (router_) {
    sinks::alertmanager_api_options api;
    api.metrics = &metrics_;
    for (const auto r : config::receivers_by_name(startup_.receivers)) {
      api.receiver_names.push_back(r.front().name);
    }
    // Grafana's notification policies and `amtool config routes` read it (as of the start).
    api.config_text = sinks::alertmanager_config_text(startup_);
    api.publish_alert = router_->alert_publisher();
    if (collector_ && !search::archive_templates(startup_).empty()) {
      // From an alert to the archived lines that fired it: its rule's match, narrowed to its
      // group (the rules in use, reloads included).
      api.search_filter = [this](const rules::alert& a) -> std::string {
        const auto name = a.labels.find("alertname");
        if (name == a.labels.end()) return {};
        const auto rules = collector_->engine().rules();
        for (const auto& def : rules->definitions()) {
          if (def.name == name->second) return rules::search_filter_for_alert(def, a.labels);
        }
        return {};  // not a rule's alert (posted to the API)
      };
    }
    sinks::register_alertmanager_api(admin_, router_->router(), std::move(api));
    sinks::register_oncall_api(admin_, router_->router(), router_->ack_signer());
    admin_.accept_user_tokens(read_user_tokens(startup_), {"/api/v1/oncall/ack"});
  }
  if (collector_) {
    rules::register_rules_api(admin_, collector_->engine(), real_clock());
    search::register_tail_api(admin_, collector_->live_tail());
  }
  // The archive is where the file outputs write, whichever half this role runs.
  if (!search::archive_templates(startup_).empty()) search::register_search_api(admin_, startup_);
  if (std::string token = read_admin_token(startup_); !token.empty()) {
    // An ack link's signature is its credential: it works without the admin token. The UI's
    // page and assets hold no data; what they show comes from the guarded API.
    admin_.require_token(std::move(token), {"/healthz", "/"}, {"/ack/", "/ui/"});
  }
  use_admin_tls(startup_, admin_);
  if (const std::string& url = startup_.admin->external_url; !url.empty()) {
    // The UI reached through a proxy: its origin is external_url's scheme, host and port.
    const auto host_start = url.find("://");
    const auto path_start =
        host_start == std::string::npos ? host_start : url.find('/', host_start + 3);
    admin_.trust_origins({url.substr(0, path_start)});
  }
  admin_limits limits;
  limits.max_connections = startup_.admin->max_connections;
  admin_.set_limits(limits);
  admin_.set_metrics(metrics_);
  admin_.start(startup_.admin->listen.host, startup_.admin->listen.port);
  spdlog::info("admin listening on {}://{}:{}", startup_.admin->tls ? "https" : "http",
               startup_.admin->listen.host, admin_.port());
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
  // What can still fail is built first (the collector's new outputs, then the router's routes
  // and receivers, which throw with nothing changed); then the collector switches.
  std::vector<log_output> outputs;
  if (collector_) outputs = collector_->build_outputs(next.cfg);
  if (router_) router_->reload(next.cfg, next.rules);
  std::size_t rule_count = 0;
  if (collector_) rule_count = collector_->reload(next.rules, std::move(outputs));
  current_ = std::move(next.cfg);
  const std::size_t metrics = next.rules ? next.rules->metric_definitions().size() : 0;
  return {true, std::to_string(rule_count) + " rules, " +
                    (metrics > 0 ? std::to_string(metrics) + " metrics, " : "") +
                    std::to_string(current_.receivers.size()) + " receivers, " +
                    std::to_string(current_.outputs.size()) + " outputs"};
}

std::string daemon::not_ready_reason() const {
  if (stopping_) return "shutting down";
  if (!started_) return "starting";
  if (collector_) {
    if (std::string why = collector_->not_ready_reason(); !why.empty()) return why;
  }
  if (router_) return router_->not_ready_reason();
  return {};
}

// The shutdown order, upstream first, so that each stage has handed on what it holds before the
// stage it feeds stops; the drains share shutdown_timeout. What is still pending at the deadline
// is not lost: the Kafka spool, router.db and the Kafka topics carry it over to the next start.
//   1. collector drain: the inputs stop taking messages; the log outputs write out what they hold.
//   2. collector stop: its Kafka producer delivers or spools the alerts it holds.
//   3. router drain: the embedded bus is emptied into the router, the Kafka readers stop, the
//      receivers send what is due, then the router leaves the consumer group.
//   4. admin listener: its API reads and writes the router until here.
//   5. router stop: the router's ticks and receiver workers end.
//   6. release: the collector before the router, whose in-process bus it published on.
void daemon::shut_down() {
  systemd::notify_stopping();
  const auto deadline = std::chrono::steady_clock::now() + current_.shutdown_timeout;
  if (collector_) {
    collector_->drain(deadline);
    collector_->stop();
  }
  if (router_ && !router_->drain(deadline)) {
    spdlog::warn(
        "shutdown_timeout reached with notifications still being sent; they are sent "
        "again after the next start");
  }
  admin_.stop();
  if (router_) router_->stop();
  collector_.reset();
  router_.reset();
  spdlog::info("stopped");
}

}  // namespace

int run_daemon(const std::filesystem::path& config_file, daemon_role role) {
  // Where alerts are routed, every receiver is built once as a dry run, so a bad one is reported
  // with all the others. A collector sends nothing: it starts without the receivers' secrets.
  config::config cfg = role == daemon_role::collector ? config::load_file(config_file)
                                                      : load_config_to_start(config_file);
  if (role != daemon_role::all && cfg.bus.type != "kafka") {
    throw std::runtime_error(std::string("tocsin ") + role_name(role) +
                             " needs bus.type kafka in " + config_file.string() +
                             " (with the embedded bus, `tocsin run` does both halves)");
  }
  daemon d(config_file, role, std::move(cfg));
  return d.run();
}

}  // namespace tocsin::pipeline
