#include "config/config.hpp"

#include <arpa/inet.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <array>

#include <algorithm>
#include <set>
#include <span>
#include <utility>

#include "config/global_config.hpp"
#include "config/matcher_syntax.hpp"
#include "config/oncall_config.hpp"
#include "config/time_interval_config.hpp"
#include "config/values.hpp"
#include "config/yaml_reader.hpp"
#include "core/timezone.hpp"

namespace tocsin::config {

std::string location_prefix(const source_location& where) {
  if (where.file.empty()) return "";
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": ";
}
namespace {

using entry = yaml_entry;

// A listening socket, to find two that would bind the same address.
struct binding {
  std::string protocol;  // udp | tcp (tcp, tls, http and relp all listen on TCP)
  endpoint address;
  std::string owner;  // "input 'x'", "the admin listener"
  YAML::Mark mark;
  std::string path;
};

// Whether two listeners of the same protocol would share a port. The IPv6 wildcard (dual
// stack) overlaps everything; the IPv4 wildcard overlaps everything but IPv6 literals. Port 0
// asks the OS for a free port and never collides.
bool overlaps(const endpoint& a, const endpoint& b) {
  if (a.port != b.port || a.port == 0) return false;
  if (a.host == b.host || a.host == "::" || b.host == "::") return true;
  const bool a_v6 = a.host.find(':') != std::string::npos;
  const bool b_v6 = b.host.find(':') != std::string::npos;
  return (a.host == "0.0.0.0" && !b_v6) || (b.host == "0.0.0.0" && !a_v6);
}

constexpr std::string_view top_keys[] = {"node_name",
                                         "data_dir",
                                         "admin",
                                         "inputs",
                                         "limits",
                                         "outputs",
                                         "bus",
                                         "rules_files",
                                         "route",
                                         "inhibit_rules",
                                         "receivers",
                                         "shutdown_timeout",
                                         "router",
                                         "oncall",
                                         "time_intervals",
                                         "mute_time_intervals",
                                         "global",
                                         "templates",
                                         "external_url"};
constexpr std::string_view input_keys[] = {"name",           "type",   "transport",
                                           "listen",         "format", "timezone",
                                           "proxy_protocol", "tls",    "receive_buffer"};
constexpr std::string_view tls_keys[] = {"cert", "key", "ca", "client_auth", "permitted_peers"};
constexpr std::string_view limits_keys[] = {"max_message_bytes",
                                            "max_connections",
                                            "idle_timeout",
                                            "per_source_rate",
                                            "burst",
                                            "max_connections_per_source",
                                            "gelf_chunk_bytes_per_source"};
constexpr std::string_view output_keys[] = {"type", "path", "topic", "max_open_files",
                                            "max_new_paths_per_minute"};
constexpr std::string_view admin_keys[] = {"listen",          "token_file",   "insecure",
                                           "max_connections", "external_url", "tls"};
constexpr std::string_view admin_tls_keys[] = {"cert", "key"};
constexpr std::string_view router_keys[] = {"max_alerts"};
constexpr std::string_view bus_keys[] = {"type", "kafka"};
constexpr std::string_view kafka_keys[] = {
    "brokers", "topic", "group", "properties", "spool_max_bytes", "rebuild_window", "topics"};
constexpr std::string_view kafka_topics_keys[] = {"alerts", "silences", "nflog", "hits", "oncall"};
constexpr std::string_view kafka_topic_keys[] = {"name", "partitions", "replication_factor",
                                                 "retention"};
constexpr std::string_view route_keys[] = {"receiver",
                                           "group_by",
                                           "group_wait",
                                           "group_interval",
                                           "repeat_interval",
                                           "matchers",
                                           "match",
                                           "match_re",
                                           "continue",
                                           "routes",
                                           "escalation",
                                           "mute_time_intervals",
                                           "active_time_intervals"};
constexpr std::string_view inhibit_keys[] = {
    "source_matchers", "source_match", "source_match_re", "target_matchers", "target_match",
    "target_match_re", "equal"};

constexpr std::string_view input_types[] = {"syslog", "gelf"};
constexpr std::string_view transports[] = {"udp", "tcp", "tls", "http", "relp"};
constexpr std::string_view syslog_transports[] = {"udp", "tcp", "tls", "relp"};
constexpr std::string_view gelf_transports[] = {"udp", "tcp", "http"};
constexpr std::string_view formats[] = {"auto", "rfc5424", "rfc3164"};
constexpr std::string_view client_auth_modes[] = {"none", "optional", "required"};
constexpr std::string_view output_types[] = {"file", "kafka"};
constexpr std::string_view bus_types[] = {"embedded", "kafka"};
constexpr std::string_view placeholders[] = {"host", "app", "date"};

std::string hostname() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof(buffer) - 1) != 0 || buffer[0] == '\0') return "localhost";
  return buffer;
}

// localhost, 127.0.0.0/8, ::1 (and ::ffff:127.x.y.z). Only these keep the admin port to this host.
bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  std::array<unsigned char, 16> bytes{};
  if (::inet_pton(AF_INET, host.c_str(), bytes.data()) == 1) return bytes[0] == 127;
  if (::inet_pton(AF_INET6, host.c_str(), bytes.data()) != 1) return false;
  const bool prefix_zero =
      std::all_of(bytes.begin(), bytes.begin() + 10, [](auto b) { return b == 0; });
  if (prefix_zero && bytes[10] == 0xff && bytes[11] == 0xff) return bytes[12] == 127;  // v4-mapped
  return prefix_zero && bytes[10] == 0 && bytes[11] == 0 && bytes[12] == 0 && bytes[13] == 0 &&
         bytes[14] == 0 && bytes[15] == 1;
}

bool valid_kafka_topic(std::string_view topic) {
  if (topic.empty() || topic.size() > 249 || topic == "." || topic == "..") return false;
  return std::all_of(topic.begin(), topic.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Walks the YAML tree once, filling a config and collecting every problem on the way.
class loader : public yaml_reader {
 public:
  explicit loader(std::string file) : yaml_reader(std::move(file)) {}

  config load(const YAML::Node& root);

 private:
  struct receiver_reference {
    std::string name;
    YAML::Mark mark;
    std::string path;
  };

  // The matchers of a route or of one side of an inhibit rule, gathered in Alertmanager's order
  // from its three keys: `match`, `match_re` (label: value or regex) and `matchers` (items in
  // Alertmanager's syntax, several in one item). Each is stored as Alertmanager prints it, with
  // the location of the item or key it came from. Regexes are compiled by sinks::label_matcher,
  // which reports a bad one at that location.
  struct matcher_keys {
    const entry* match = nullptr;
    const entry* match_re = nullptr;
    const entry* matchers = nullptr;
  };
  void load_matchers(const matcher_keys& keys, std::vector<std::string>& out,
                     std::vector<source_location>& out_where) {
    const auto add = [&](const matcher_spec& m, const YAML::Mark& mark) {
      out.push_back(to_string(m));
      out_where.push_back(where(mark));
    };
    if (keys.match != nullptr) load_match_map(*keys.match, match_op::equal, add);
    if (keys.match_re != nullptr) load_match_map(*keys.match_re, match_op::regex, add);
    if (keys.matchers == nullptr) return;
    auto items = list(*keys.matchers);
    if (!items) return;
    for (const entry& item : *items) {
      // Like Alertmanager, an empty item (or `{}`) holds no matcher.
      auto value = text(item, /*allow_empty=*/true);
      if (!value) continue;
      std::string problem;
      auto parsed = parse_matchers(*value, &problem);
      if (!parsed) {
        error(item.mark(), item.path, "invalid matcher " + quote(*value) + ": " + problem);
        continue;
      }
      for (const matcher_spec& m : *parsed) add(m, item.mark());
    }
  }

  // `match: { label: value }` or `match_re: { label: regex }`. As in Alertmanager, names are
  // Prometheus label names and a regex is kept anchored, `^(?:regex)$`, which route keys show.
  template <typename add_fn>
  void load_match_map(const entry& e, match_op op, const add_fn& add) {
    if (e.value.IsNull()) return;
    if (!e.value.IsMap()) {
      error(e.mark(), e.path,
            "expected a mapping of label names to values, got " + describe(e.value));
      return;
    }
    std::set<std::string> seen;
    for (auto it = e.value.begin(); it != e.value.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) {
        error(key.Mark(), e.path, "expected a label name, got " + describe(key));
        continue;
      }
      const entry pair{key.Scalar(), it->second, key.Mark(), e.path + "." + key.Scalar()};
      if (!valid_label_name(pair.name)) {
        error(pair.key_mark, e.path, "invalid label name " + quote(pair.name));
        continue;
      }
      if (!seen.insert(pair.name).second) {
        error(pair.key_mark, e.path, "duplicate label " + quote(pair.name));
        continue;
      }
      auto value = text(pair, /*allow_empty=*/true);
      if (!value) continue;
      if (op == match_op::regex) *value = "^(?:" + *value + ")$";
      add(matcher_spec{pair.name, op, std::move(*value)}, pair.key_mark);
    }
  }

  void bind(const std::string& protocol, const endpoint& address, const std::string& owner,
            const entry& at) {
    for (const binding& other : bindings_) {
      if (other.protocol == protocol && overlaps(other.address, address)) {
        error(at.mark(), at.path,
              to_string(address) + "/" + protocol + " is already used by " + other.owner +
                  " (line " + std::to_string(other.mark.line + 1) + ")");
        return;
      }
    }
    bindings_.push_back(binding{protocol, address, owner, at.mark(), at.path});
  }

  void load_input(const entry& at, config& cfg);
  std::optional<tls_config> load_tls(const entry& at);
  std::optional<tls_config> load_admin_tls(const entry& at);
  void load_limits(const entry& at, limits_config& limits);
  void load_output(const entry& at, config& cfg);
  void load_admin(const entry& at, config& cfg);
  void load_router(const entry& at, router_config& router);
  void load_bus(const entry& at, bus_config& bus);
  void load_kafka_topics(const entry& at, kafka_config& kafka);
  std::optional<route_config> load_route(const entry& at, bool root);
  void load_inhibit_rule(const entry& at, config& cfg);
  void load_receiver(const entry& at, config& cfg);
  void load_external_url(const entry& at, config& cfg);

  // Reported once, here: the rest of check-config does not see them.
  static void drop_unknown_intervals(route_config& route,
                                     const std::vector<std::string_view>& known) {
    const auto drop = [&](std::vector<std::string>& names, std::vector<source_location>& where) {
      for (std::size_t i = names.size(); i-- > 0;) {
        if (std::find(known.begin(), known.end(), names[i]) != known.end()) continue;
        names.erase(names.begin() + static_cast<std::ptrdiff_t>(i));
        if (i < where.size()) where.erase(where.begin() + static_cast<std::ptrdiff_t>(i));
      }
    };
    drop(route.mute_time_intervals, route.mute_time_interval_where);
    drop(route.active_time_intervals, route.active_time_interval_where);
    for (route_config& child : route.routes) drop_unknown_intervals(child, known);
  }

  std::vector<binding> bindings_;
  std::map<std::string, YAML::Mark> input_names_;
  std::map<std::string, YAML::Mark> receiver_names_;
  std::vector<receiver_reference> receiver_references_;
  std::vector<receiver_reference> escalation_references_;
  std::vector<receiver_reference> time_interval_references_;
  std::vector<entry> kafka_output_entries_;
};

config loader::load(const YAML::Node& root) {
  config cfg;
  cfg.node_name = hostname();
  const entry top{"", root, root.Mark(), ""};
  if (!root.IsNull() && !root.IsMap()) {
    error(root.Mark(), "", "expected a mapping at the top level, got " + describe(root));
    return cfg;
  }
  const auto entries = mapping(top, top_keys);
  if (!entries) return cfg;

  const entry* external_url = nullptr;  // read once `admin` is
  const entry* global_entry = nullptr;
  std::vector<std::string> templates;
  for (const entry& e : *entries) {
    if (e.name == "node_name") {
      if (auto v = text(e)) cfg.node_name = *v;
    } else if (e.name == "data_dir") {
      if (auto v = text(e)) cfg.data_dir = *v;
    } else if (e.name == "shutdown_timeout") {
      if (auto v = span(e)) cfg.shutdown_timeout = *v;
    } else if (e.name == "admin") {
      load_admin(e, cfg);
    } else if (e.name == "router") {
      load_router(e, cfg.router);
    } else if (e.name == "inputs") {
      if (auto items = list(e)) {
        for (const entry& item : *items) load_input(item, cfg);
      }
    } else if (e.name == "limits") {
      load_limits(e, cfg.limits);
    } else if (e.name == "outputs") {
      if (auto items = list(e)) {
        for (const entry& item : *items) load_output(item, cfg);
      }
    } else if (e.name == "bus") {
      load_bus(e, cfg.bus);
    } else if (e.name == "rules_files") {
      if (auto v = text_list(e)) cfg.rules_files = std::move(*v);
    } else if (e.name == "route") {
      cfg.route = load_route(e, /*root=*/true);
    } else if (e.name == "inhibit_rules") {
      if (auto items = list(e)) {
        for (const entry& item : *items) load_inhibit_rule(item, cfg);
      }
    } else if (e.name == "receivers") {
      if (auto items = list(e)) {
        for (const entry& item : *items) load_receiver(item, cfg);
      }
    } else if (e.name == "oncall") {
      load_oncall(*this, e, cfg.oncall);
    } else if (e.name == "time_intervals" || e.name == "mute_time_intervals") {
      // The top-level `mute_time_intervals` is Alertmanager's deprecated name of the section.
      load_time_intervals(*this, e, cfg.time_intervals);
    } else if (e.name == "global") {
      global_entry = &e;
    } else if (e.name == "templates") {
      if (auto v = text_list(e)) templates = std::move(*v);
    } else if (e.name == "external_url") {
      external_url = &e;
    }
  }
  global_config global;
  const std::filesystem::path base_dir = std::filesystem::path(file()).parent_path();
  if (global_entry != nullptr) load_global(*this, *global_entry, base_dir, global);
  for (std::string& pattern : templates) {
    if (std::filesystem::path(pattern).is_relative()) pattern = (base_dir / pattern).string();
  }
  global.templates = std::move(templates);
  cfg.global = std::make_shared<const global_config>(std::move(global));
  for (receiver_config& r : cfg.receivers) r.global = cfg.global;
  if (external_url != nullptr) load_external_url(*external_url, cfg);

  // Checks across sections, now that every receiver and the bus are known.
  std::vector<std::string_view> receiver_names;
  for (const auto& [name, mark] : receiver_names_) receiver_names.push_back(name);
  for (const receiver_reference& ref : receiver_references_) {
    if (!receiver_names_.contains(ref.name)) {
      error(ref.mark, ref.path,
            "unknown receiver " + quote(ref.name) + suggestion(ref.name, receiver_names));
    }
  }
  std::vector<std::string_view> policy_names;
  for (const escalation_policy& p : cfg.oncall.escalation_policies) policy_names.push_back(p.name);
  for (const receiver_reference& ref : escalation_references_) {
    if (std::find(policy_names.begin(), policy_names.end(), ref.name) == policy_names.end()) {
      error(ref.mark, ref.path,
            "unknown escalation policy " + quote(ref.name) + suggestion(ref.name, policy_names));
    }
  }
  std::vector<std::string_view> interval_names;
  for (const time_interval_config& t : cfg.time_intervals) interval_names.push_back(t.name);
  for (const receiver_reference& ref : time_interval_references_) {
    if (std::find(interval_names.begin(), interval_names.end(), ref.name) == interval_names.end()) {
      error(ref.mark, ref.path,
            "unknown time interval " + quote(ref.name) + suggestion(ref.name, interval_names));
    }
  }
  if (cfg.route && has_errors()) drop_unknown_intervals(*cfg.route, interval_names);
  if (cfg.bus.kafka.brokers.empty()) {
    for (const entry& e : kafka_output_entries_) {
      error(e.mark(), e.path, "a kafka output needs bus.kafka.brokers");
    }
  }
  return cfg;
}

void loader::load_input(const entry& at, config& cfg) {
  const auto entries = mapping(at, input_keys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view required_keys[] = {"name", "type", "transport", "listen"};
  require(at, *entries, required_keys);

  input_config input;
  input.where = where(at.mark());
  std::optional<std::string> type, transport_name;
  std::optional<endpoint> listen;
  for (const entry& e : *entries) {
    if (e.name == "name") {
      if (auto v = text(e)) {
        input.name = *v;
        auto [it, fresh] = input_names_.emplace(*v, e.mark());
        if (!fresh) {
          error(e.mark(), e.path,
                "duplicate input name " + quote(*v) + " (first on line " +
                    std::to_string(it->second.line + 1) + ")");
        }
      }
    } else if (e.name == "type") {
      type = choice(e, input_types);
      if (type) input.type = *type == "gelf" ? input_type::gelf : input_type::syslog;
    } else if (e.name == "transport") {
      transport_name = choice(e, transports);
      if (transport_name == "udp") input.transport_kind = transport::udp;
      if (transport_name == "tcp") input.transport_kind = transport::tcp;
      if (transport_name == "tls") input.transport_kind = transport::tls;
      if (transport_name == "http") input.transport_kind = transport::http;
      if (transport_name == "relp") input.transport_kind = transport::relp;
    } else if (e.name == "listen") {
      listen = address(e);
      if (listen) input.listen = *listen;
    } else if (e.name == "format") {
      auto v = choice(e, formats);
      if (v == "rfc5424") input.format = syslog_format::rfc5424;
      if (v == "rfc3164") input.format = syslog_format::rfc3164;
    } else if (e.name == "proxy_protocol") {
      if (auto v = flag(e)) input.proxy_protocol = *v;
    } else if (e.name == "receive_buffer") {
      if (auto v = count(e, 64 * 1024, std::size_t{1} << 29)) input.receive_buffer = *v;
    } else if (e.name == "timezone") {
      if (auto v = text(e)) {
        if (!tocsin::input_timezone::from_name(*v)) {
          error(e.mark(), e.path,
                "unknown time zone " + quote(*v) +
                    "; expected local, UTC, an offset such as +02:00 or an IANA name such as "
                    "Europe/Berlin");
        } else {
          input.timezone = *v;
        }
      }
    }
  }

  const entry* format = find(*entries, "format");
  if (format != nullptr && type == "gelf") {
    error(format->key_mark, format->path, "only syslog inputs have a format");
  }
  const entry* transport_entry = find(*entries, "transport");
  if (type && transport_name) {
    const names allowed = *type == "gelf" ? names(gelf_transports) : names(syslog_transports);
    if (std::find(allowed.begin(), allowed.end(), *transport_name) == allowed.end()) {
      error(transport_entry->mark(), transport_entry->path,
            *type + " inputs support " + join(allowed, ", ") + ", not " + quote(*transport_name));
      transport_name.reset();  // one message is enough: skip the checks that depend on it
    }
  }
  const entry* proxy = find(*entries, "proxy_protocol");
  if (proxy != nullptr && input.proxy_protocol && transport_name == "udp") {
    error(proxy->key_mark, proxy->path, "only valid with transport: tcp, tls or http");
  }
  const entry* receive_buffer = find(*entries, "receive_buffer");
  if (receive_buffer != nullptr && transport_name && transport_name != "udp") {
    error(receive_buffer->key_mark, receive_buffer->path, "only valid with transport: udp");
  }
  const entry* tls = find(*entries, "tls");
  if (transport_name == "tls") {
    if (tls == nullptr) {
      constexpr std::string_view tls_key[] = {"tls"};
      require(at, *entries, tls_key, " (transport is tls)");
    } else {
      input.tls = load_tls(*tls);
    }
  } else if (tls != nullptr && transport_name) {
    error(tls->key_mark, tls->path, "only valid with transport: tls");
  }

  if (listen && transport_name) {
    const entry* listen_entry = find(*entries, "listen");
    bind(*transport_name == "udp" ? "udp" : "tcp", *listen,
         "input " + quote(input.name.empty() ? at.path : input.name), *listen_entry);
  }
  cfg.inputs.push_back(std::move(input));
}

std::optional<tls_config> loader::load_tls(const entry& at) {
  const auto entries = mapping(at, tls_keys);
  if (!entries) return std::nullopt;
  constexpr std::string_view required_keys[] = {"cert", "key"};
  require(at, *entries, required_keys);
  tls_config tls;
  for (const entry& e : *entries) {
    if (e.name == "cert") {
      if (auto v = text(e)) tls.cert = *v;
    } else if (e.name == "key") {
      if (auto v = text(e)) tls.key = *v;
    } else if (e.name == "ca") {
      if (auto v = text(e)) tls.ca = *v;
    } else if (e.name == "client_auth") {
      if (auto v = choice(e, client_auth_modes)) tls.client_auth = *v;
    } else if (e.name == "permitted_peers") {
      if (auto v = text_list(e)) tls.permitted_peers = std::move(*v);
    }
  }
  // Verifying client certificates needs a CA; naming permitted peers needs client certificates.
  if (tls.client_auth != "none" && find(*entries, "ca") == nullptr) {
    constexpr std::string_view ca_key[] = {"ca"};
    require(at, *entries, ca_key, " (client_auth is " + tls.client_auth + ")");
  }
  const entry* peers = find(*entries, "permitted_peers");
  if (peers != nullptr && !tls.permitted_peers.empty() && tls.client_auth == "none") {
    error(peers->key_mark, peers->path, "needs client_auth: optional or required");
  }
  return tls;
}

void loader::load_limits(const entry& at, limits_config& limits) {
  const auto entries = mapping(at, limits_keys);
  if (!entries) return;
  for (const entry& e : *entries) {
    if (e.name == "max_message_bytes") {
      if (auto v = count(e, 1, std::uint64_t{1} << 30)) limits.max_message_bytes = *v;
    } else if (e.name == "max_connections") {
      if (auto v = count(e, 1, 1'000'000)) limits.max_connections = *v;
    } else if (e.name == "idle_timeout") {
      if (auto v = span(e)) limits.idle_timeout = *v;
    } else if (e.name == "per_source_rate") {
      if (auto v = count(e, 0, 100'000'000)) limits.per_source_rate = *v;
    } else if (e.name == "burst") {
      if (auto v = count(e, 1, 100'000'000)) limits.burst = *v;
    } else if (e.name == "max_connections_per_source") {
      if (auto v = count(e, 0, 1'000'000)) limits.max_connections_per_source = *v;
    } else if (e.name == "gelf_chunk_bytes_per_source") {
      if (auto v = count(e, 1, std::uint64_t{1} << 30)) limits.gelf_chunk_bytes_per_source = *v;
    }
  }
  const entry* burst = find(*entries, "burst");
  if (burst != nullptr && limits.per_source_rate == 0) {
    error(burst->key_mark, burst->path, "needs per_source_rate (a bucket size without a rate)");
  }
}

void loader::load_output(const entry& at, config& cfg) {
  const auto entries = mapping(at, output_keys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view required_keys[] = {"type"};
  require(at, *entries, required_keys);
  output_config output;
  output.where = where(at.mark());
  std::optional<std::string> type;
  if (const entry* e = find(*entries, "type")) type = choice(*e, output_types);
  if (type == "kafka") output.type = output_type::kafka;

  for (const entry& e : *entries) {
    if (e.name == "path") {
      if (type == "kafka") {
        error(e.key_mark, e.path, "only file outputs have a path");
        continue;
      }
      auto v = text(e);
      if (!v) continue;
      output.path = *v;
      // A template is rooted where the operator put it; a `..` would step outside on purpose
      // or by mistake, and the archive writer treats the template's prefix as its root.
      std::size_t start = 0;
      while (start <= v->size()) {
        const std::size_t slash = std::min(v->find('/', start), v->size());
        if (v->substr(start, slash - start) == "..") {
          error(e.mark(), e.path, "must not contain a '..' component: " + quote(*v));
          break;
        }
        start = slash + 1;
      }
      for (std::size_t open = v->find('{'); open != std::string::npos;
           open = v->find('{', open + 1)) {
        const std::size_t close = v->find('}', open);
        const std::string name =
            v->substr(open + 1, close == std::string::npos ? std::string::npos : close - open - 1);
        if (close == std::string::npos ||
            std::find(std::begin(placeholders), std::end(placeholders), name) ==
                std::end(placeholders)) {
          error(e.mark(), e.path,
                "unknown placeholder " +
                    quote("{" + name + (close == std::string::npos ? "" : "}")) +
                    "; expected {host}, {app} or {date}" + suggestion(name, placeholders));
          break;
        }
      }
    } else if (e.name == "topic") {
      if (type == "file") {
        error(e.key_mark, e.path, "only kafka outputs have a topic");
        continue;
      }
      if (auto v = text(e)) {
        if (!valid_kafka_topic(*v)) {
          error(e.mark(), e.path,
                "invalid Kafka topic " + quote(*v) + " (letters, digits, '.', '_', '-')");
        }
        output.topic = *v;
      }
    } else if (e.name == "max_open_files" || e.name == "max_new_paths_per_minute") {
      if (type == "kafka") {
        error(e.key_mark, e.path, "only file outputs have " + e.name);
        continue;
      }
      if (e.name == "max_open_files") {
        if (auto v = count(e, 1, 1'000'000)) output.max_open_files = *v;
      } else if (auto v = count(e, 1, 100'000'000)) {
        output.max_new_paths_per_minute = *v;
      }
    }
  }
  if (type == "file") {
    constexpr std::string_view path_key[] = {"path"};
    require(at, *entries, path_key);
  } else if (type == "kafka") {
    constexpr std::string_view topic_key[] = {"topic"};
    require(at, *entries, topic_key);
    kafka_output_entries_.push_back(at);
  }
  cfg.outputs.push_back(std::move(output));
}

void loader::load_admin(const entry& at, config& cfg) {
  const auto entries = mapping(at, admin_keys);
  if (!entries) return;
  admin_config admin;
  for (const entry& e : *entries) {
    if (e.name == "listen") {
      if (auto v = address(e)) {
        admin.listen = *v;
        bind("tcp", *v, "the admin listener", e);
      }
    } else if (e.name == "token_file") {
      if (auto v = text(e)) admin.token_file = *v;
      admin.token_file_where = where(e.mark());
    } else if (e.name == "insecure") {
      if (auto v = flag(e)) admin.insecure = *v;
    } else if (e.name == "max_connections") {
      if (auto v = count(e, 1, 100'000)) admin.max_connections = *v;
    } else if (e.name == "external_url") {
      if (auto v = url(e)) {
        while (!v->empty() && v->back() == '/') v->pop_back();
        admin.external_url = *v;
      }
    } else if (e.name == "tls") {
      admin.tls = load_admin_tls(e);
      admin.tls_where = where(e.mark());
    }
  }
  const entry* listen = find(*entries, "listen");
  if (listen == nullptr) bind("tcp", admin.listen, "the admin listener", at);
  // Anyone who reaches an unguarded admin port can silence every alert: off the loopback
  // interface it needs a token, or an explicit `insecure: true` (a trusted network, a proxy
  // that authenticates).
  if (admin.token_file.empty() && !admin.insecure && !is_loopback_host(admin.listen.host)) {
    const entry& at_listen = listen != nullptr ? *listen : at;
    error(at_listen.mark(), at_listen.path,
          "the admin listener on " + quote(to_string(admin.listen)) +
              " is reachable from other hosts without a token: set admin.token_file, listen on "
              "127.0.0.1, or set admin.insecure: true");
  }
  cfg.admin = std::move(admin);
}

std::optional<tls_config> loader::load_admin_tls(const entry& at) {
  const auto entries = mapping(at, admin_tls_keys);
  if (!entries) return std::nullopt;
  require(at, *entries, admin_tls_keys);
  tls_config tls;
  for (const entry& e : *entries) {
    if (e.name == "cert") {
      if (auto v = text(e)) tls.cert = *v;
    } else if (e.name == "key") {
      if (auto v = text(e)) tls.key = *v;
    }
  }
  return tls;
}

void loader::load_router(const entry& at, router_config& router) {
  const auto entries = mapping(at, router_keys);
  if (!entries) return;
  for (const entry& e : *entries) {
    if (e.name == "max_alerts") {
      if (auto v = count(e, 1, 100'000'000)) router.max_alerts = *v;
    }
  }
}

void loader::load_bus(const entry& at, bus_config& bus) {
  const auto entries = mapping(at, bus_keys);
  if (!entries) return;
  bool brokers_given = false;
  for (const entry& e : *entries) {
    if (e.name == "type") {
      if (auto v = choice(e, bus_types)) bus.type = *v;
    } else if (e.name == "kafka") {
      const auto kafka = mapping(e, kafka_keys);
      if (!kafka) continue;
      bus.kafka.where = where(e.mark());
      brokers_given = find(*kafka, "brokers") != nullptr;
      for (const entry& k : *kafka) {
        if (k.name == "brokers") {
          if (auto v = text(k)) bus.kafka.brokers = *v;
        } else if (k.name == "topic") {
          if (auto v = text(k)) {
            if (!valid_kafka_topic(*v)) {
              error(k.mark(), k.path,
                    "invalid Kafka topic " + quote(*v) + " (letters, digits, '.', '_', '-')");
            }
            bus.kafka.topic = *v;
          }
        } else if (k.name == "group") {
          if (auto v = text(k)) bus.kafka.group = *v;
        } else if (k.name == "properties") {
          if (auto v = text_map(k)) bus.kafka.properties = std::move(*v);
          if (k.value.IsMap()) {
            for (auto it = k.value.begin(); it != k.value.end(); ++it) {
              if (it->first.IsScalar()) {
                bus.kafka.property_where[it->first.Scalar()] = where(it->first.Mark());
              }
            }
          }
        } else if (k.name == "spool_max_bytes") {
          if (auto v = count(k, 1 << 20, std::uint64_t{1} << 50)) bus.kafka.spool_max_bytes = *v;
        } else if (k.name == "rebuild_window") {
          if (auto v = span(k)) bus.kafka.rebuild_window = *v;
        } else if (k.name == "topics") {
          load_kafka_topics(k, bus.kafka);
        }
      }
    }
  }
  if (bus.type == "kafka" && !brokers_given) {
    const entry* kafka = find(*entries, "kafka");
    if (kafka == nullptr) {
      constexpr std::string_view kafka_key[] = {"kafka"};
      require(at, *entries, kafka_key, " (bus type is kafka)");
    } else if (kafka->value.IsMap() || kafka->value.IsNull()) {
      error(kafka->mark(), "",
            "missing required key 'brokers' in " + kafka->path + " (bus type is kafka)");
    }
  }
}

void loader::load_kafka_topics(const entry& at, kafka_config& kafka) {
  const auto roles = mapping(at, kafka_topics_keys);
  if (!roles) return;
  for (const entry& role : *roles) {
    kafka_topic_config& topic = role.name == "alerts"     ? kafka.alerts_topic
                                : role.name == "silences" ? kafka.silences_topic
                                : role.name == "nflog"    ? kafka.nflog_topic
                                : role.name == "oncall"   ? kafka.oncall_topic
                                                          : kafka.hits_topic;
    const auto keys = mapping(role, kafka_topic_keys);
    if (!keys) continue;
    topic.where = where(role.mark());
    for (const entry& k : *keys) {
      if (k.name == "name") {
        if (auto v = text(k)) {
          if (!valid_kafka_topic(*v)) {
            error(k.mark(), k.path,
                  "invalid Kafka topic " + quote(*v) + " (letters, digits, '.', '_', '-')");
          }
          (role.name == "alerts" ? kafka.topic : topic.name) = *v;
        }
      } else if (k.name == "partitions") {
        if (auto v = count(k, 1, 10'000)) topic.partitions = static_cast<int>(*v);
      } else if (k.name == "replication_factor") {
        if (auto v = count(k, 1, 100)) topic.replication_factor = static_cast<int>(*v);
      } else if (k.name == "retention") {
        if (role.name == "silences" || role.name == "nflog" || role.name == "oncall") {
          error(k.key_mark, k.path,
                "the " + role.name + " topic is compacted: it has no retention");
        } else if (auto v = span(k)) {
          topic.retention = *v;
        }
      }
    }
  }
}

std::optional<route_config> loader::load_route(const entry& at, bool root) {
  const auto entries = mapping(at, route_keys, /*null_is_empty=*/root);
  if (!entries) return std::nullopt;
  route_config route;
  route.where = where(at.mark());
  if (root) {
    constexpr std::string_view receiver_key[] = {"receiver"};
    require(at, *entries, receiver_key);
  }
  matcher_keys keys;
  for (const entry& e : *entries) {
    if (e.name == "receiver") {
      if (auto v = text(e)) {
        route.receiver = *v;
        receiver_references_.push_back({*v, e.key_mark, e.path});
      }
    } else if (e.name == "group_by") {
      auto labels = text_list(e);
      if (!labels) continue;
      std::set<std::string> seen;
      for (std::size_t i = 0; i < labels->size(); ++i) {
        const std::string& label = (*labels)[i];
        const YAML::Mark mark = e.value[i].Mark();
        const std::string path = e.path + "[" + std::to_string(i) + "]";
        if (label == "...") {
          if (labels->size() > 1) error(mark, path, "'...' (every label) must be used alone");
        } else if (!valid_label_name(label)) {
          error(mark, path, "invalid label name " + quote(label));
        } else if (!seen.insert(label).second) {
          error(mark, path, "duplicate label " + quote(label));
        }
      }
      route.group_by = std::move(*labels);
    } else if (e.name == "group_wait" || e.name == "group_interval" ||
               e.name == "repeat_interval") {
      auto v = span(e);
      if (!v) continue;
      // Alertmanager rejects zero intervals: they would re-notify in a tight loop.
      if (e.name != "group_wait" && v->count() == 0) {
        error(e.mark(), e.path, "must be greater than 0");
        continue;
      }
      if (e.name == "group_wait") route.group_wait = *v;
      if (e.name == "group_interval") route.group_interval = *v;
      if (e.name == "repeat_interval") route.repeat_interval = *v;
    } else if (e.name == "matchers" || e.name == "match" || e.name == "match_re") {
      if (root) {
        error(e.key_mark, e.path, "the root route matches every alert; it takes no matchers");
        continue;
      }
      (e.name == "match" ? keys.match : e.name == "match_re" ? keys.match_re : keys.matchers) = &e;
    } else if (e.name == "continue") {
      auto v = flag(e);
      if (v && *v && root) {
        // As in Alertmanager: the root has no siblings to continue to.
        error(e.key_mark, e.path, "the root route cannot have continue: true");
        continue;
      }
      if (v) route.continue_matching = *v;
    } else if (e.name == "escalation") {
      if (auto v = text(e)) {
        route.escalation = *v;
        escalation_references_.push_back({*v, e.mark(), e.path});
      }
    } else if (e.name == "mute_time_intervals" || e.name == "active_time_intervals") {
      if (root) {
        // As in Alertmanager: the root route sends what no other route does, always.
        error(e.key_mark, e.path, "the root route cannot have " + e.name);
        continue;
      }
      auto items = list(e);
      if (!items) continue;
      const bool mute = e.name == "mute_time_intervals";
      auto& names_out = mute ? route.mute_time_intervals : route.active_time_intervals;
      auto& where_out = mute ? route.mute_time_interval_where : route.active_time_interval_where;
      for (const entry& item : *items) {
        auto v = text(item);
        if (!v) continue;
        time_interval_references_.push_back({*v, item.mark(), item.path});
        names_out.push_back(*v);
        where_out.push_back(where(item.mark()));
      }
    } else if (e.name == "routes") {
      if (auto items = list(e)) {
        for (const entry& item : *items) {
          if (auto child = load_route(item, /*root=*/false)) {
            route.routes.push_back(std::move(*child));
          }
        }
      }
    }
  }
  load_matchers(keys, route.matchers, route.matcher_where);
  return route;
}

void loader::load_inhibit_rule(const entry& at, config& cfg) {
  const auto entries = mapping(at, inhibit_keys, /*null_is_empty=*/false);
  if (!entries) return;
  inhibit_rule_config rule;
  rule.where = where(at.mark());
  matcher_keys source, target;
  for (const entry& e : *entries) {
    if (e.name == "source_match") {
      source.match = &e;
    } else if (e.name == "source_match_re") {
      source.match_re = &e;
    } else if (e.name == "source_matchers") {
      source.matchers = &e;
    } else if (e.name == "target_match") {
      target.match = &e;
    } else if (e.name == "target_match_re") {
      target.match_re = &e;
    } else if (e.name == "target_matchers") {
      target.matchers = &e;
    } else if (e.name == "equal") {
      auto labels = text_list(e);
      if (!labels) continue;
      for (std::size_t i = 0; i < labels->size(); ++i) {
        if (!valid_label_name((*labels)[i])) {
          error(e.value[i].Mark(), e.path + "[" + std::to_string(i) + "]",
                "invalid label name " + quote((*labels)[i]));
        }
      }
      rule.equal = std::move(*labels);
    }
  }
  load_matchers(source, rule.source_matchers, rule.source_matcher_where);
  load_matchers(target, rule.target_matchers, rule.target_matcher_where);
  cfg.inhibit_rules.push_back(std::move(rule));
}

void loader::load_receiver(const entry& at, config& cfg) {
  // Every key but `name` is an integration: `slack: {…}` in tocsin's syntax, `slack_configs:
  // [{…}, …]` in Alertmanager's. Which integrations exist, and what their sections hold, the
  // notifier registry knows (sinks/notifier.hpp), so check-config reports them by constructing.
  std::vector<std::string> integration_keys;
  if (at.value.IsMap()) {
    for (auto it = at.value.begin(); it != at.value.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() != "name" && it->first.Scalar() != "<<") {
        integration_keys.push_back(it->first.Scalar());
      }
    }
  }
  std::vector<std::string_view> keys = {"name"};
  keys.insert(keys.end(), integration_keys.begin(), integration_keys.end());
  const auto entries = mapping(at, keys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view required_keys[] = {"name"};
  require(at, *entries, required_keys);
  receiver_config receiver;
  receiver.where = where(at.mark());
  std::vector<receiver_config> integrations;
  for (const entry& e : *entries) {
    if (e.name == "name") {
      if (auto v = text(e)) {
        receiver.name = *v;
        auto [it, fresh] = receiver_names_.emplace(*v, e.mark());
        if (!fresh) {
          error(e.mark(), e.path,
                "duplicate receiver name " + quote(*v) + " (first on line " +
                    std::to_string(it->second.line + 1) + ")");
        }
      }
      continue;
    }
    constexpr std::string_view list_suffix = "_configs";
    if (!e.name.ends_with(list_suffix) || e.name.size() == list_suffix.size()) {
      receiver_config one;
      one.integration = e.name;
      one.section = std::make_shared<const receiver_section>(receiver_section{file(), e});
      integrations.push_back(std::move(one));
      continue;
    }
    // Alertmanager's list; an empty one (`slack_configs: []` or null) adds nothing, as there.
    if (e.value.IsNull()) continue;
    auto items = list(e);
    if (!items) continue;
    for (const entry& item : *items) {
      receiver_config one;
      one.integration = e.name.substr(0, e.name.size() - list_suffix.size());
      one.syntax = receiver_syntax::alertmanager;
      one.section = std::make_shared<const receiver_section>(receiver_section{file(), item});
      integrations.push_back(std::move(one));
    }
  }
  if (integrations.empty()) {
    cfg.receivers.push_back(std::move(receiver));
    return;
  }
  for (receiver_config& one : integrations) {
    one.name = receiver.name;
    one.where = receiver.where;
    cfg.receivers.push_back(std::move(one));
  }
}

// The top-level `external_url` (DESIGN.md, "Alertmanager compatibility") is another spelling of
// admin.external_url: where people reach the UI, for links in notifications.
void loader::load_external_url(const entry& at, config& cfg) {
  auto v = url(at);
  if (!v) return;
  while (!v->empty() && v->back() == '/') v->pop_back();
  if (!cfg.admin) {
    error(at.key_mark, at.path,
          "needs the admin listener (an `admin:` section): it serves what the links point to");
  } else if (!cfg.admin->external_url.empty()) {
    error(at.key_mark, at.path, "give external_url here or in admin, not both");
  } else {
    cfg.admin->external_url = *v;
  }
}

}  // namespace

config_error::config_error(std::vector<std::string> errors)
    : std::runtime_error(join(errors, "\n")), errors_(std::move(errors)) {}

loaded load_string_with_errors(const std::string& yaml, const std::filesystem::path& file_name) {
  const std::string file = file_name.string();
  const YAML::Node root = parse_document(yaml, file);
  loader l(file);
  loaded out;
  try {
    out.cfg = l.load(root);
  } catch (const YAML::Exception& e) {
    // yaml-cpp only throws here on a bug in the walk above; report it like any other problem.
    throw config_error({file + ": " + e.what()});
  }
  out.cfg.file = file_name;
  out.errors = l.errors();
  return out;
}

config load_string(const std::string& yaml, const std::filesystem::path& file_name) {
  loaded out = load_string_with_errors(yaml, file_name);
  if (!out.errors.empty()) throw config_error(std::move(out.errors));
  return std::move(out.cfg);
}

std::vector<std::span<const receiver_config>> receivers_by_name(
    const std::vector<receiver_config>& receivers) {
  std::vector<std::span<const receiver_config>> out;
  for (std::size_t i = 0; i < receivers.size();) {
    std::size_t end = i + 1;
    while (end < receivers.size() && receivers[end].name == receivers[i].name) ++end;
    out.emplace_back(receivers.data() + i, end - i);
    i = end;
  }
  return out;
}

config load_file(const std::filesystem::path& file) {
  return load_string(read_text_file(file), file);
}

loaded load_file_with_errors(const std::filesystem::path& file) {
  return load_string_with_errors(read_text_file(file), file);
}

}  // namespace tocsin::config
