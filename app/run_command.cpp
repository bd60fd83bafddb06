// `tocsin run`: inputs → decoders → log outputs, with the admin listener, until SIGTERM/SIGINT.

#include "app/commands.hpp"
#include "collector/file_archive.hpp"
#include "collector/ingest_server.hpp"
#include "config/config.hpp"
#include "core/admin_server.hpp"
#include "core/metrics.hpp"
#include "core/version_info.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>

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

void warn_about_unbuilt_sections(const config::config& cfg) {
  if (!cfg.rules_files.empty()) {
    spdlog::warn("rules_files is set, but this build has no rules engine yet: no alerts are made");
  }
  if (cfg.route || !cfg.receivers.empty() || !cfg.inhibit_rules.empty()) {
    spdlog::warn("route, receivers and inhibit_rules are validated but not used by this build");
  }
  if (cfg.bus.type != "embedded") {
    spdlog::warn("bus.type {} is not available in this build; the embedded bus is used",
                 cfg.bus.type);
  }
}

}  // namespace

int run_daemon(const std::string& config_file) {
  const config::config cfg = config::load_file(config_file);
  raise_fd_limit();
  warn_about_unbuilt_sections(cfg);

  metrics_registry metrics;
  auto archives = make_archives(cfg, metrics);
  std::vector<std::shared_ptr<collector::event_sink>> sinks(archives.begin(), archives.end());
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

  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          spdlog::info("SIGHUP: reopening archive files");
          for (auto& a : archives) a->reopen();
          signals.async_wait(on_signal);
          return;
        }
        spdlog::info("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      };
  signals.async_wait(on_signal);
  signals_io.run();

  ingest.stop();
  for (auto& a : archives) a->flush();
  admin.stop();
  spdlog::info("stopped");
  return 0;
}

int run_check_config(const std::string& config_file) {
  try {
    config::load_file(config_file);
  } catch (const config::config_error& e) {
    for (const auto& err : e.errors()) std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  std::printf("%s: ok\n", config_file.c_str());
  return 0;
}

}  // namespace tocsin::app
