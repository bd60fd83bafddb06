#include "config/config.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <span>
#include <sstream>
#include <utility>

#include "config/values.hpp"
#include "core/timezone.hpp"

namespace tocsin::config {
namespace {

using names = std::span<const std::string_view>;

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::string join(names parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

// User text for a message: quoted, control characters escaped, long values cut.
std::string quote(std::string_view text) {
  constexpr std::size_t kMax = 60;
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMax) out += "...";
  return out + "'";
}

// What a node is, for "expected X, got Y".
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return quote(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), so `lsiten`
// is one edit away from `listen`.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// "; did you mean 'x'?" for the closest candidate, else "". Two edits are allowed, but only one
// for words shorter than six letters: otherwise `b` would suggest `bus`.
std::string suggestion(std::string_view word, names candidates) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (std::string_view candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    const std::size_t shorter = std::min(word.size(), candidate.size());
    const std::size_t allowed = std::clamp<std::size_t>(shorter / 3, 1, 2);
    if (distance <= allowed && distance < best_distance && distance < candidate.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best.empty() ? std::string() : "; did you mean " + quote(best) + "?";
}

std::string child_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string in_path(const std::string& path) { return path.empty() ? "" : " in " + path; }

// One `key: value` pair of a mapping (or one list item), with its path for messages
// (`inputs[0].listen`).
struct entry {
  std::string name;  // the key; "" for a list item
  YAML::Node value;
  YAML::Mark key_mark;  // the key, or the item itself
  std::string path;

  // Where a problem with the value is reported. yaml-cpp marks an empty value at the token
  // after it, so an empty value is reported at its key.
  YAML::Mark mark() const { return value.IsNull() ? key_mark : value.Mark(); }
};

const entry* find(const std::vector<entry>& entries, std::string_view name) {
  for (const entry& e : entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

// A listening socket, to find two that would bind the same address.
struct binding {
  std::string protocol;  // udp | tcp (tcp, tls and http all listen on TCP)
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

// Receiver integrations: their keys and what each value must be. Settings are stored flattened
// (`auth.username`) in receiver_config::settings.
enum class setting_kind { text, url, flag, count, span, address, text_list, text_map, section };

struct setting_spec {
  std::string_view name;
  setting_kind kind = setting_kind::text;
  bool required = false;
  std::span<const setting_spec> children = {};  // for a section
};

constexpr setting_spec kAuth[] = {
    {"username", setting_kind::text, true},
    {"password_file", setting_kind::text, true},
};
constexpr setting_spec kSlack[] = {
    {"webhook_url", setting_kind::url},  // one of webhook_url, webhook_url_file is required
    {"webhook_url_file"},
    {"channel"},
    {"username"},
    {"icon_emoji"},
    {"icon_url", setting_kind::url},
    {"send_resolved", setting_kind::flag},
    {"title"},
    {"text"},
};
constexpr setting_spec kEmail[] = {
    {"smarthost", setting_kind::address, true},
    {"from", setting_kind::text, true},
    {"to", setting_kind::text_list, true},
    {"require_tls", setting_kind::flag},
    {"auth", setting_kind::section, false, kAuth},
    {"headers", setting_kind::text_map},
    {"send_resolved", setting_kind::flag},
    {"subject"},
    {"text"},
    {"html"},
};
constexpr setting_spec kWebhook[] = {
    {"url", setting_kind::url, true},
    {"max_alerts", setting_kind::count},
    {"send_resolved", setting_kind::flag},
    {"bearer_token_file"},
    {"basic_auth", setting_kind::section, false, kAuth},
    {"headers", setting_kind::text_map},
    {"timeout", setting_kind::span},
};
constexpr setting_spec kPagerduty[] = {
    {"routing_key_file", setting_kind::text, true},
    {"url", setting_kind::url},
    {"send_resolved", setting_kind::flag},
    {"severity"},
    {"client"},
    {"client_url", setting_kind::url},
};
constexpr setting_spec kAlertmanager[] = {
    {"url", setting_kind::url, true},
    {"send_resolved", setting_kind::flag},
};
constexpr setting_spec kFileReceiver[] = {
    {"path", setting_kind::text, true},
    {"send_resolved", setting_kind::flag},
};

struct integration_spec {
  std::string_view name;
  std::span<const setting_spec> settings;
};
constexpr integration_spec kIntegrations[] = {
    {"slack", kSlack},
    {"email", kEmail},
    {"webhook", kWebhook},
    {"pagerduty", kPagerduty},
    {"alertmanager", kAlertmanager},
    {"file", kFileReceiver},
};

constexpr std::string_view kTopKeys[] = {"node_name", "data_dir",      "admin",    "inputs",
                                         "limits",    "outputs",       "bus",      "rules_files",
                                         "route",     "inhibit_rules", "receivers"};
constexpr std::string_view kInputKeys[] = {"name",   "type",     "transport", "listen",
                                           "format", "timezone", "tls"};
constexpr std::string_view kTlsKeys[] = {"cert", "key", "ca", "client_auth", "permitted_peers"};
constexpr std::string_view kLimitsKeys[] = {"max_message_bytes", "max_connections", "idle_timeout"};
constexpr std::string_view kOutputKeys[] = {"type", "path", "topic"};
constexpr std::string_view kAdminKeys[] = {"listen", "token_file"};
constexpr std::string_view kBusKeys[] = {"type", "kafka"};
constexpr std::string_view kKafkaKeys[] = {"brokers", "topic", "group", "properties"};
constexpr std::string_view kRouteKeys[] = {"receiver",       "group_by",        "group_wait",
                                           "group_interval", "repeat_interval", "matchers",
                                           "continue",       "routes"};
constexpr std::string_view kInhibitKeys[] = {"source_matchers", "target_matchers", "equal"};

constexpr std::string_view kInputTypes[] = {"syslog", "gelf"};
constexpr std::string_view kTransports[] = {"udp", "tcp", "tls", "http"};
constexpr std::string_view kSyslogTransports[] = {"udp", "tcp", "tls"};
constexpr std::string_view kGelfTransports[] = {"udp", "tcp", "http"};
constexpr std::string_view kFormats[] = {"auto", "rfc5424", "rfc3164"};
constexpr std::string_view kClientAuth[] = {"none", "optional", "required"};
constexpr std::string_view kOutputTypes[] = {"file", "kafka"};
constexpr std::string_view kBusTypes[] = {"embedded", "kafka"};
constexpr std::string_view kPlaceholders[] = {"host", "app", "date"};

std::string hostname() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof(buffer) - 1) != 0 || buffer[0] == '\0') return "localhost";
  return buffer;
}

bool valid_label_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Checks the shape of an Alertmanager matcher: `label OP value` with OP one of = != =~ !~ and
// the value bare or double-quoted. The router (issue 5) parses values and compiles regexes.
bool valid_matcher(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  const auto op = text.find_first_of("=!");
  if (op == std::string_view::npos) return false;
  if (!valid_label_name(trim(text.substr(0, op)))) return false;
  std::string_view rest = text.substr(op);
  if (rest.starts_with("=~") || rest.starts_with("!~") || rest.starts_with("!=")) {
    rest.remove_prefix(2);
  } else if (rest.starts_with("=")) {
    rest.remove_prefix(1);
  } else {
    return false;
  }
  rest = trim(rest);
  if (rest.starts_with('"')) {
    // A quoted value runs to an unescaped closing quote that ends the text.
    for (std::size_t i = 1; i < rest.size(); ++i) {
      if (rest[i] == '\\') {
        ++i;
      } else if (rest[i] == '"') {
        return i == rest.size() - 1;
      }
    }
    return false;
  }
  return true;
}

bool valid_kafka_topic(std::string_view topic) {
  if (topic.empty() || topic.size() > 249 || topic == "." || topic == "..") return false;
  return std::all_of(topic.begin(), topic.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Walks the YAML tree once, filling a config and collecting every problem on the way.
class loader {
 public:
  explicit loader(std::string file) : file_(std::move(file)) {}

  config load(const YAML::Node& root);

  [[nodiscard]] std::vector<std::string> errors() const {
    std::vector<problem> sorted = problems_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const problem& a, const problem& b) {
      return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    std::vector<std::string> out;
    for (const problem& p : sorted) {
      if (p.line > 0) {
        out.push_back(file_ + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " +
                      p.text);
      } else {
        out.push_back(file_ + ": " + p.text);
      }
    }
    return out;
  }

 private:
  struct problem {
    int line = 0;  // 1-based; 0 = no position
    int column = 0;
    std::string text;
  };
  struct receiver_reference {
    std::string name;
    YAML::Mark mark;
    std::string path;
  };

  void error(const YAML::Mark& mark, const std::string& path, const std::string& message) {
    problem p;
    if (mark.line >= 0) {
      p.line = mark.line + 1;
      p.column = mark.column + 1;
    }
    p.text = path.empty() ? message : path + ": " + message;
    problems_.push_back(std::move(p));
  }

  [[nodiscard]] source_location where(const YAML::Mark& mark) const {
    return {file_, mark.line + 1, mark.column + 1};
  }

  // The entries of a mapping whose keys are all `known`; unknown and duplicate keys are
  // reported and left out. An empty value counts as an empty mapping when `null_is_empty`.
  std::optional<std::vector<entry>> mapping(const entry& at, names known,
                                            bool null_is_empty = true) {
    if (at.value.IsNull() && null_is_empty) return std::vector<entry>{};
    if (!at.value.IsMap()) {
      error(at.mark(), at.path, "expected a mapping, got " + describe(at.value));
      return std::nullopt;
    }
    std::vector<entry> out;
    std::set<std::string> seen;
    for (auto it = at.value.begin(); it != at.value.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) {
        error(key.Mark(), at.path, "expected a string key, got " + describe(key));
        continue;
      }
      const std::string& name = key.Scalar();
      if (!seen.insert(name).second) {
        error(key.Mark(), "", "duplicate key " + quote(name) + in_path(at.path));
        continue;
      }
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        if (name == "<<") {
          error(key.Mark(), at.path, "YAML merge keys ('<<') are not supported");
        } else {
          error(key.Mark(), "",
                "unknown key " + quote(name) + in_path(at.path) + suggestion(name, known));
        }
        continue;
      }
      out.push_back(entry{name, it->second, key.Mark(), child_path(at.path, name)});
    }
    return out;
  }

  // The items of a list; an empty value is an empty list.
  std::optional<std::vector<entry>> list(const entry& at) {
    if (at.value.IsNull()) return std::vector<entry>{};
    if (!at.value.IsSequence()) {
      error(at.mark(), at.path, "expected a list, got " + describe(at.value));
      return std::nullopt;
    }
    std::vector<entry> out;
    std::size_t index = 0;
    for (const YAML::Node& item : at.value) {
      out.push_back(entry{"", item, item.IsNull() ? at.mark() : item.Mark(),
                          at.path + "[" + std::to_string(index++) + "]"});
    }
    return out;
  }

  void require(const entry& at, const std::vector<entry>& entries, names required,
               const std::string& why = "") {
    for (std::string_view name : required) {
      if (find(entries, name) == nullptr) {
        error(at.mark(), "", "missing required key " + quote(name) + in_path(at.path) + why);
      }
    }
  }

  std::optional<std::string> text(const entry& e, bool allow_empty = false) {
    if (!e.value.IsScalar()) {
      error(e.mark(), e.path, "expected a string, got " + describe(e.value));
      return std::nullopt;
    }
    if (!allow_empty && e.value.Scalar().empty()) {
      error(e.mark(), e.path, "must not be empty");
      return std::nullopt;
    }
    return e.value.Scalar();
  }

  std::optional<std::string> choice(const entry& e, names allowed) {
    auto value = text(e);
    if (!value) return std::nullopt;
    if (std::find(allowed.begin(), allowed.end(), *value) == allowed.end()) {
      error(e.mark(), e.path,
            "invalid value " + quote(*value) + "; expected one of " + join(allowed, ", ") +
                suggestion(*value, allowed));
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> flag(const entry& e) {
    bool value = false;
    if (!e.value.IsScalar() || !YAML::convert<bool>::decode(e.value, value)) {
      error(e.mark(), e.path, "expected true or false, got " + describe(e.value));
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::uint64_t> count(const entry& e, std::uint64_t min, std::uint64_t max) {
    const std::string expected =
        min > 0 ? "expected a positive integer" : "expected a non-negative integer";
    if (!e.value.IsScalar() || e.value.Scalar().empty()) {
      error(e.mark(), e.path, expected + ", got " + describe(e.value));
      return std::nullopt;
    }
    std::uint64_t value = 0;
    for (char c : e.value.Scalar()) {
      if (c < '0' || c > '9') {
        error(e.mark(), e.path, expected + ", got " + describe(e.value));
        return std::nullopt;
      }
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
      if (value > max) break;
    }
    if (value < min) {
      error(e.mark(), e.path, expected + ", got " + describe(e.value));
      return std::nullopt;
    }
    if (value > max) {
      error(e.mark(), e.path,
            quote(e.value.Scalar()) + " is too large (at most " + std::to_string(max) + ")");
      return std::nullopt;
    }
    return value;
  }

  std::optional<duration> span(const entry& e) {
    auto value = text(e);
    if (!value) return std::nullopt;
    std::string problem;
    auto parsed = detail::parse_duration(*value, problem);
    if (!parsed) error(e.mark(), e.path, "invalid duration " + quote(*value) + ": " + problem);
    return parsed;
  }

  std::optional<endpoint> address(const entry& e) {
    auto value = text(e);
    if (!value) return std::nullopt;
    std::string problem;
    auto parsed = detail::parse_endpoint(*value, problem);
    if (!parsed) error(e.mark(), e.path, "invalid endpoint " + quote(*value) + ": " + problem);
    return parsed;
  }

  std::optional<std::string> url(const entry& e) {
    auto value = text(e);
    if (!value) return std::nullopt;
    const bool http = value->starts_with("http://") && value->size() > 7;
    const bool https = value->starts_with("https://") && value->size() > 8;
    if (!http && !https) {
      error(e.mark(), e.path, "invalid URL " + quote(*value) + ": expected http:// or https://");
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::vector<std::string>> text_list(const entry& e) {
    auto items = list(e);
    if (!items) return std::nullopt;
    std::vector<std::string> out;
    bool ok = true;
    for (const entry& item : *items) {
      auto value = text(item);
      if (value) {
        out.push_back(std::move(*value));
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  // A mapping of free-form keys to scalar values (kafka properties, HTTP headers).
  std::optional<std::map<std::string, std::string>> text_map(const entry& e) {
    if (e.value.IsNull()) return std::map<std::string, std::string>{};
    if (!e.value.IsMap()) {
      error(e.mark(), e.path, "expected a mapping, got " + describe(e.value));
      return std::nullopt;
    }
    std::map<std::string, std::string> out;
    bool ok = true;
    for (auto it = e.value.begin(); it != e.value.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar() || key.Scalar().empty()) {
        error(key.Mark(), e.path, "expected a string key, got " + describe(key));
        ok = false;
        continue;
      }
      const entry value{key.Scalar(), it->second, key.Mark(), child_path(e.path, key.Scalar())};
      auto scalar = text(value, /*allow_empty=*/true);
      if (!scalar) {
        ok = false;
      } else if (!out.emplace(key.Scalar(), *scalar).second) {
        error(key.Mark(), "", "duplicate key " + quote(key.Scalar()) + in_path(e.path));
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<std::vector<std::string>> matchers(const entry& e) {
    auto items = list(e);
    if (!items) return std::nullopt;
    std::vector<std::string> out;
    for (const entry& item : *items) {
      auto value = text(item);
      if (!value) continue;
      if (!valid_matcher(*value)) {
        error(item.mark(), item.path,
              "invalid matcher " + quote(*value) +
                  "; expected label=\"value\", label!=\"value\", label=~\"regex\" or "
                  "label!~\"regex\"");
        continue;
      }
      out.push_back(std::move(*value));
    }
    return out;
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
  void load_limits(const entry& at, limits_config& limits);
  void load_output(const entry& at, config& cfg);
  void load_admin(const entry& at, config& cfg);
  void load_bus(const entry& at, bus_config& bus);
  std::optional<route_config> load_route(const entry& at, bool root);
  void load_inhibit_rule(const entry& at, config& cfg);
  void load_receiver(const entry& at, config& cfg);
  void load_settings(const entry& at, std::span<const setting_spec> spec, const std::string& prefix,
                     std::map<std::string, std::string>& settings);

  std::string file_;
  std::vector<problem> problems_;
  std::vector<binding> bindings_;
  std::map<std::string, YAML::Mark> input_names_;
  std::map<std::string, YAML::Mark> receiver_names_;
  std::vector<receiver_reference> receiver_references_;
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
  const auto entries = mapping(top, kTopKeys);
  if (!entries) return cfg;

  for (const entry& e : *entries) {
    if (e.name == "node_name") {
      if (auto v = text(e)) cfg.node_name = *v;
    } else if (e.name == "data_dir") {
      if (auto v = text(e)) cfg.data_dir = *v;
    } else if (e.name == "admin") {
      load_admin(e, cfg);
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
    }
  }

  // Checks across sections, now that every receiver and the bus are known.
  std::vector<std::string_view> receiver_names;
  for (const auto& [name, mark] : receiver_names_) receiver_names.push_back(name);
  for (const receiver_reference& ref : receiver_references_) {
    if (!receiver_names_.contains(ref.name)) {
      error(ref.mark, ref.path,
            "unknown receiver " + quote(ref.name) + suggestion(ref.name, receiver_names));
    }
  }
  if (cfg.bus.kafka.brokers.empty()) {
    for (const entry& e : kafka_output_entries_) {
      error(e.mark(), e.path, "a kafka output needs bus.kafka.brokers");
    }
  }
  return cfg;
}

void loader::load_input(const entry& at, config& cfg) {
  const auto entries = mapping(at, kInputKeys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view kRequired[] = {"name", "type", "transport", "listen"};
  require(at, *entries, kRequired);

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
      type = choice(e, kInputTypes);
      if (type) input.type = *type == "gelf" ? input_type::gelf : input_type::syslog;
    } else if (e.name == "transport") {
      transport_name = choice(e, kTransports);
      if (transport_name == "udp") input.transport_kind = transport::udp;
      if (transport_name == "tcp") input.transport_kind = transport::tcp;
      if (transport_name == "tls") input.transport_kind = transport::tls;
      if (transport_name == "http") input.transport_kind = transport::http;
    } else if (e.name == "listen") {
      listen = address(e);
      if (listen) input.listen = *listen;
    } else if (e.name == "format") {
      auto v = choice(e, kFormats);
      if (v == "rfc5424") input.format = syslog_format::rfc5424;
      if (v == "rfc3164") input.format = syslog_format::rfc3164;
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
    const names allowed = *type == "gelf" ? names(kGelfTransports) : names(kSyslogTransports);
    if (std::find(allowed.begin(), allowed.end(), *transport_name) == allowed.end()) {
      error(transport_entry->mark(), transport_entry->path,
            *type + " inputs support " + join(allowed, ", ") + ", not " + quote(*transport_name));
      transport_name.reset();  // one message is enough: skip the checks that depend on it
    }
  }
  const entry* tls = find(*entries, "tls");
  if (transport_name == "tls") {
    if (tls == nullptr) {
      constexpr std::string_view kTls[] = {"tls"};
      require(at, *entries, kTls, " (transport is tls)");
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
  const auto entries = mapping(at, kTlsKeys);
  if (!entries) return std::nullopt;
  constexpr std::string_view kRequired[] = {"cert", "key"};
  require(at, *entries, kRequired);
  tls_config tls;
  for (const entry& e : *entries) {
    if (e.name == "cert") {
      if (auto v = text(e)) tls.cert = *v;
    } else if (e.name == "key") {
      if (auto v = text(e)) tls.key = *v;
    } else if (e.name == "ca") {
      if (auto v = text(e)) tls.ca = *v;
    } else if (e.name == "client_auth") {
      if (auto v = choice(e, kClientAuth)) tls.client_auth = *v;
    } else if (e.name == "permitted_peers") {
      if (auto v = text_list(e)) tls.permitted_peers = std::move(*v);
    }
  }
  // Verifying client certificates needs a CA; naming permitted peers needs client certificates.
  if (tls.client_auth != "none" && find(*entries, "ca") == nullptr) {
    constexpr std::string_view kCa[] = {"ca"};
    require(at, *entries, kCa, " (client_auth is " + tls.client_auth + ")");
  }
  const entry* peers = find(*entries, "permitted_peers");
  if (peers != nullptr && !tls.permitted_peers.empty() && tls.client_auth == "none") {
    error(peers->key_mark, peers->path, "needs client_auth: optional or required");
  }
  return tls;
}

void loader::load_limits(const entry& at, limits_config& limits) {
  const auto entries = mapping(at, kLimitsKeys);
  if (!entries) return;
  for (const entry& e : *entries) {
    if (e.name == "max_message_bytes") {
      if (auto v = count(e, 1, std::uint64_t{1} << 30)) limits.max_message_bytes = *v;
    } else if (e.name == "max_connections") {
      if (auto v = count(e, 1, 1'000'000)) limits.max_connections = *v;
    } else if (e.name == "idle_timeout") {
      if (auto v = span(e)) limits.idle_timeout = *v;
    }
  }
}

void loader::load_output(const entry& at, config& cfg) {
  const auto entries = mapping(at, kOutputKeys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view kRequired[] = {"type"};
  require(at, *entries, kRequired);
  output_config output;
  output.where = where(at.mark());
  std::optional<std::string> type;
  if (const entry* e = find(*entries, "type")) type = choice(*e, kOutputTypes);
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
            std::find(std::begin(kPlaceholders), std::end(kPlaceholders), name) ==
                std::end(kPlaceholders)) {
          error(e.mark(), e.path,
                "unknown placeholder " +
                    quote("{" + name + (close == std::string::npos ? "" : "}")) +
                    "; expected {host}, {app} or {date}" + suggestion(name, kPlaceholders));
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
    }
  }
  if (type == "file") {
    constexpr std::string_view kPath[] = {"path"};
    require(at, *entries, kPath);
  } else if (type == "kafka") {
    constexpr std::string_view kTopic[] = {"topic"};
    require(at, *entries, kTopic);
    kafka_output_entries_.push_back(at);
  }
  cfg.outputs.push_back(std::move(output));
}

void loader::load_admin(const entry& at, config& cfg) {
  const auto entries = mapping(at, kAdminKeys);
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
    }
  }
  if (find(*entries, "listen") == nullptr) bind("tcp", admin.listen, "the admin listener", at);
  cfg.admin = std::move(admin);
}

void loader::load_bus(const entry& at, bus_config& bus) {
  const auto entries = mapping(at, kBusKeys);
  if (!entries) return;
  bool brokers_given = false;
  for (const entry& e : *entries) {
    if (e.name == "type") {
      if (auto v = choice(e, kBusTypes)) bus.type = *v;
    } else if (e.name == "kafka") {
      const auto kafka = mapping(e, kKafkaKeys);
      if (!kafka) continue;
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
        }
      }
    }
  }
  if (bus.type == "kafka" && !brokers_given) {
    const entry* kafka = find(*entries, "kafka");
    if (kafka == nullptr) {
      constexpr std::string_view kKafka[] = {"kafka"};
      require(at, *entries, kKafka, " (bus type is kafka)");
    } else if (kafka->value.IsMap() || kafka->value.IsNull()) {
      error(kafka->mark(), "",
            "missing required key 'brokers' in " + kafka->path + " (bus type is kafka)");
    }
  }
}

std::optional<route_config> loader::load_route(const entry& at, bool root) {
  const auto entries = mapping(at, kRouteKeys, /*null_is_empty=*/root);
  if (!entries) return std::nullopt;
  route_config route;
  route.where = where(at.mark());
  if (root) {
    constexpr std::string_view kReceiver[] = {"receiver"};
    require(at, *entries, kReceiver);
  }
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
    } else if (e.name == "matchers") {
      if (root) {
        error(e.key_mark, e.path, "the root route matches every alert; it takes no matchers");
        continue;
      }
      if (auto v = matchers(e)) route.matchers = std::move(*v);
    } else if (e.name == "continue") {
      if (auto v = flag(e)) route.continue_matching = *v;
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
  return route;
}

void loader::load_inhibit_rule(const entry& at, config& cfg) {
  const auto entries = mapping(at, kInhibitKeys, /*null_is_empty=*/false);
  if (!entries) return;
  inhibit_rule_config rule;
  rule.where = where(at.mark());
  for (const entry& e : *entries) {
    if (e.name == "source_matchers") {
      if (auto v = matchers(e)) rule.source_matchers = std::move(*v);
    } else if (e.name == "target_matchers") {
      if (auto v = matchers(e)) rule.target_matchers = std::move(*v);
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
  cfg.inhibit_rules.push_back(std::move(rule));
}

void loader::load_receiver(const entry& at, config& cfg) {
  std::vector<std::string_view> keys = {"name"};
  for (const integration_spec& spec : kIntegrations) keys.push_back(spec.name);
  const auto entries = mapping(at, keys, /*null_is_empty=*/false);
  if (!entries) return;
  constexpr std::string_view kRequired[] = {"name"};
  require(at, *entries, kRequired);
  receiver_config receiver;
  receiver.where = where(at.mark());
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
    if (!receiver.integration.empty()) {
      error(e.key_mark, e.path,
            "a receiver has at most one integration (already has " + quote(receiver.integration) +
                ")");
      continue;
    }
    receiver.integration = e.name;
    for (const integration_spec& spec : kIntegrations) {
      if (spec.name == e.name) load_settings(e, spec.settings, "", receiver.settings);
    }
    if (e.name == "slack") {
      const bool url = receiver.settings.contains("webhook_url");
      const bool url_file = receiver.settings.contains("webhook_url_file");
      const bool given = e.value.IsMap() && (e.value["webhook_url"].IsDefined() ||
                                             e.value["webhook_url_file"].IsDefined());
      if (url && url_file) {
        error(e.mark(), e.path, "give webhook_url or webhook_url_file, not both");
      } else if (!given && (e.value.IsMap() || e.value.IsNull())) {
        error(e.mark(), "",
              "missing required key 'webhook_url' or 'webhook_url_file' in " + e.path);
      }
    } else if (e.name == "webhook") {
      if (receiver.settings.contains("bearer_token_file") &&
          receiver.settings.contains("basic_auth.username")) {
        error(e.mark(), e.path, "give bearer_token_file or basic_auth, not both");
      }
    }
  }
  cfg.receivers.push_back(std::move(receiver));
}

void loader::load_settings(const entry& at, std::span<const setting_spec> spec,
                           const std::string& prefix,
                           std::map<std::string, std::string>& settings) {
  std::vector<std::string_view> keys;
  std::vector<std::string_view> required;
  for (const setting_spec& s : spec) {
    keys.push_back(s.name);
    if (s.required) required.push_back(s.name);
  }
  const auto entries = mapping(at, keys);
  if (!entries) return;
  require(at, *entries, required);
  for (const entry& e : *entries) {
    const setting_spec& s = *std::find_if(spec.begin(), spec.end(),
                                          [&](const setting_spec& x) { return x.name == e.name; });
    const std::string key = prefix + e.name;
    switch (s.kind) {
      case setting_kind::text:
        if (auto v = text(e)) settings[key] = *v;
        break;
      case setting_kind::url:
        if (auto v = url(e)) settings[key] = *v;
        break;
      case setting_kind::flag:
        if (auto v = flag(e)) settings[key] = *v ? "true" : "false";
        break;
      case setting_kind::count:
        if (auto v = count(e, 0, 1'000'000'000)) settings[key] = std::to_string(*v);
        break;
      case setting_kind::span:
        if (span(e)) settings[key] = e.value.Scalar();
        break;
      case setting_kind::address:
        if (auto v = address(e)) settings[key] = to_string(*v);
        break;
      case setting_kind::text_list:
        if (auto v = text_list(e)) {
          if (v->empty() && s.required) {
            error(e.mark(), e.path, "must not be empty");
          } else {
            settings[key] = join(*v, ",");
          }
        }
        break;
      case setting_kind::text_map:
        if (auto v = text_map(e)) {
          for (const auto& [name, value] : *v) {
            std::string flat = key;
            flat += '.';
            flat += name;
            settings[flat] = value;
          }
        }
        break;
      case setting_kind::section:
        load_settings(e, s.children, key + ".", settings);
        break;
    }
  }
}

// Records where each document starts and ignores the rest. yaml-cpp's LoadAll() loops forever
// on a stray flow token such as a ',' at the start of a line (every call returns another empty
// document without consuming it), so documents are counted here with a cap instead, and a
// document that starts where the previous one did is reported as that stray token.
class document_starts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

config_error::config_error(std::vector<std::string> errors)
    : std::runtime_error(join(errors, "\n")), errors_(std::move(errors)) {}

config load_string(const std::string& yaml, const std::filesystem::path& file_name) {
  const std::string file = file_name.string();
  auto at = [&](const YAML::Mark& mark) {
    if (mark.line < 0) return file + ": ";
    return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
           ": ";
  };
  YAML::Node root;
  try {
    // One pass counts documents (at most three), a second builds the first one.
    std::istringstream stream(yaml);
    YAML::Parser parser(stream);
    document_starts starts;
    while (starts.marks.size() < 3 && parser.HandleNextDocument(starts)) {
    }
    const auto& marks = starts.marks;
    for (std::size_t i = 1; i < marks.size(); ++i) {
      if (marks[i].pos == marks[i - 1].pos) {
        const auto pos = static_cast<std::size_t>(marks[i].pos);
        throw config_error({at(marks[i]) + "unexpected " +
                            quote(pos < yaml.size() ? yaml.substr(pos, 1) : std::string())});
      }
    }
    if (marks.size() > 1) {
      throw config_error({at(marks[1]) + "a config file holds one YAML document, found a second"});
    }
    if (!marks.empty()) root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw config_error({at(e.mark) + e.msg});
  } catch (const YAML::Exception& e) {
    throw config_error({file + ": " + e.msg});
  }
  loader l(file);
  config cfg;
  try {
    cfg = l.load(root);
  } catch (const YAML::Exception& e) {
    // yaml-cpp only throws here on a bug in the walk above; report it like any other problem.
    throw config_error({file + ": " + e.what()});
  }
  auto errors = l.errors();
  if (!errors.empty()) throw config_error(std::move(errors));
  cfg.file = file_name;
  return cfg;
}

config load_file(const std::filesystem::path& file) {
  const std::string name = file.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw config_error({name + ": cannot read: " + std::strerror(errno)});
  std::string text;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      throw config_error({name + ": cannot read: " + std::strerror(saved)});
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return load_string(text, file);
}

}  // namespace tocsin::config
