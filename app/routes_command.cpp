// `tocsin routes test -c FILE label=value ...`: the receivers an alert with those labels reaches,
// like `amtool config routes test`; with `--at TIME`, then one line per matched route saying
// whether its time intervals mute it at that time.

#include <cstdio>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "config/matcher_syntax.hpp"
#include "core/rfc3339.hpp"
#include "sinks/route_tree.hpp"

namespace tocsin::app {
namespace {

// `name=value`, `name="value"` or `"utf-8 name"="value"`: an equality matcher in the config's
// matcher syntax, as amtool reads its label arguments. False, with `problem` set, otherwise.
bool parse_label(const std::string& text, rules::label_set& labels, std::string& problem) {
  auto m = config::parse_matcher(text, &problem);
  if (!m) return false;
  if (m->op != config::match_op::equal) {
    problem = "labels must be given as name=value";
    return false;
  }
  labels[m->name] = std::move(m->value);
  return true;
}

std::string join(const std::vector<std::string>& names, const std::string& separator = ",") {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : separator) + n;
  return out;
}

std::vector<std::string> quoted(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  out.reserve(names.size());
  for (const auto& n : names) out.push_back(config::go_quote(n));
  return out;
}

// `route {}/{team="a"} (receiver team-a): muted by mute_time_intervals "weekends"`.
std::string mute_line(const sinks::route_tree& tree, const sinks::route_node& node,
                      std::chrono::system_clock::time_point at) {
  std::string out = "route " + node.key + " (receiver " + node.receiver + "): ";
  const auto muted = tree.muted_at(node, at);
  if (!muted) {
    out += "sends";
    if (!node.active_time_intervals.empty()) {
      out += " (in active_time_intervals " + join(quoted(node.active_time_intervals), ", ") + ")";
    }
    return out;
  }
  if (muted->reason == "mute_time_interval") {
    return out + "muted by mute_time_intervals " + config::go_quote(muted->interval);
  }
  return out + "muted: outside its active_time_intervals " +
         join(quoted(node.active_time_intervals), ", ");
}

}  // namespace

int run_routes_test(const routes_test_options& options) {
  rules::label_set labels;
  for (const auto& text : options.labels) {
    std::string problem;
    if (!parse_label(text, labels, problem)) {
      std::fprintf(stderr, "routes test: '%s' is not label=value: %s\n", text.c_str(),
                   problem.c_str());
      return 2;
    }
  }
  std::optional<std::chrono::system_clock::time_point> at;
  if (options.at) {
    at = parse_rfc3339(*options.at);
    if (!at) {
      std::fprintf(stderr,
                   "routes test: --at '%s' is not an RFC 3339 time (2026-12-05T10:00:00Z)\n",
                   options.at->c_str());
      return 2;
    }
  }
  std::vector<std::string> receivers;
  std::vector<std::string> mute_lines;
  try {
    const config::config cfg = config::load_file(options.config_file);
    if (!cfg.route) {
      std::fprintf(stderr, "%s: no route: alerts reach no receiver\n", options.config_file.c_str());
      return 1;
    }
    const sinks::route_tree tree(*cfg.route, cfg.receivers, cfg.time_intervals);
    receivers = tree.receivers(labels);
    if (at) {
      for (const sinks::route_node* node : tree.match(labels)) {
        mute_lines.push_back(mute_line(tree, *node, *at));
      }
    }
  } catch (const config::config_error& e) {
    for (const auto& err : e.errors()) std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  const std::string got = join(receivers);
  std::printf("%s\n", got.c_str());
  for (const auto& line : mute_lines) std::printf("%s\n", line.c_str());
  if (options.verify_receivers && *options.verify_receivers != got) {
    std::fprintf(stderr, "WARNING: expected receivers did not match: expected %s, got %s\n",
                 options.verify_receivers->c_str(), got.c_str());
    return 1;
  }
  return 0;
}

}  // namespace tocsin::app
