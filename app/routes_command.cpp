// `tocsin routes test -c FILE label=value ...`: the receivers an alert with those labels reaches,
// like `amtool config routes test`.

#include <cstdio>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "config/matcher_syntax.hpp"
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

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
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
