#include "pipeline/needs_restart.hpp"

#include <algorithm>
#include <tuple>

namespace tocsin::pipeline {

std::vector<std::string> needs_restart(const config::config& running, const config::config& next) {
  std::vector<std::string> changed;
  const auto same_input = [](const config::input_config& a, const config::input_config& b) {
    return std::tie(a.name, a.type, a.transport_kind, a.listen, a.format, a.timezone, a.tls,
                    a.proxy_protocol, a.receive_buffer) ==
           std::tie(b.name, b.type, b.transport_kind, b.listen, b.format, b.timezone, b.tls,
                    b.proxy_protocol, b.receive_buffer);
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
                         running.admin->max_connections != next.admin->max_connections ||
                         running.admin->tls != next.admin->tls))) {
    changed.emplace_back("admin");
  }
  if (running.data_dir != next.data_dir) changed.emplace_back("data_dir");
  if (running.node_name != next.node_name) changed.emplace_back("node_name");
  if (running.global->resolve_timeout != next.global->resolve_timeout) {
    changed.emplace_back("global.resolve_timeout");
  }
  return changed;
}

}  // namespace tocsin::pipeline
