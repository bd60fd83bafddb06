// `tocsin routes test -c FILE label=value ...`: the receivers an alert with those labels reaches,
// like `amtool config routes test`.

#include <cstdio>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "sinks/route_tree.hpp"

namespace tocsin::app {
namespace {

// `name=value` or `name="value"`; false when there is no name.
bool parse_label(const std::string& text, rules::label_set& labels) {
  const auto eq = text.find('=');
  if (eq == 0 || eq == std::string::npos) return false;
  std::string value = text.substr(eq + 1);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  labels[text.substr(0, eq)] = std::move(value);
  return true;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

}  // namespace

int run_routes_test(const routes_test_options& options) {
  rules::label_set labels;
  for (const auto& text : options.labels) {
    if (!parse_label(text, labels)) {
      std::fprintf(stderr, "routes test: '%s' is not label=value\n", text.c_str());
      return 2;
    }
  }
  std::vector<std::string> receivers;
  try {
    const config::config cfg = config::load_file(options.config_file);
    if (!cfg.route) {
      std::fprintf(stderr, "%s: no route: alerts reach no receiver\n", options.config_file.c_str());
      return 1;
    }
    receivers = sinks::route_tree(*cfg.route, cfg.receivers).receivers(labels);
  } catch (const config::config_error& e) {
    for (const auto& err : e.errors()) std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  const std::string got = join(receivers);
  std::printf("%s\n", got.c_str());
  if (options.verify_receivers && *options.verify_receivers != got) {
    std::fprintf(stderr, "WARNING: expected receivers did not match: expected %s, got %s\n",
                 options.verify_receivers->c_str(), got.c_str());
    return 1;
  }
  return 0;
}

}  // namespace tocsin::app
