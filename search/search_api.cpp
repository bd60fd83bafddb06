#include "search/search_api.hpp"

#include <atomic>
#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/http_query.hpp"
#include "core/json_text.hpp"
#include "core/rfc3339.hpp"
#include "rules/event_filter.hpp"
#include "search/archive_search.hpp"

namespace tocsin::search {
namespace {

constexpr std::size_t max_limit = 1000;
constexpr std::size_t max_buckets = 1000;
// The lines of one answer stop here (with a 64 KiB message limit it takes a large limit).
constexpr std::size_t max_lines_bytes = std::size_t{64} << 20;

http_reply error_reply(unsigned status, const std::string& message) {
  std::string body = "{\"error\":";
  append_json_string(message, body);
  body += "}\n";
  return {status, "application/json", std::move(body)};
}

std::optional<std::size_t> parse_count(const std::string& text, std::size_t max) {
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n > max) return std::nullopt;
  return n;
}

}  // namespace

http_reply search_request(const std::vector<std::string>& templates, const http_request_view& req,
                          const tocsin::clock& time) {
  if (req.method != "GET") return {405, "text/plain; charset=utf-8", "use GET\n"};
  const query_params params = parse_query(req.target);
  const auto now = time.now();
  search_options options;
  options.since = now - std::chrono::hours(24);
  options.until = now;
  options.buckets = 60;
  for (const char* name : {"since", "until"}) {
    const std::string text = first_value(params, name);
    if (text.empty()) continue;
    const auto t = parse_search_time(text, now);
    if (!t) {
      return error_reply(400, std::string(name) + ": " + text +
                                  " is neither an RFC 3339 time nor a duration such as 15m");
    }
    (std::string_view(name) == "since" ? options.since : options.until) = *t;
  }
  if (options.until <= options.since) return error_reply(400, "since must be before until");
  if (const std::string text = first_value(params, "limit"); !text.empty()) {
    const auto n = parse_count(text, max_limit);
    if (!n) return error_reply(400, "limit: expected 0.." + std::to_string(max_limit));
    options.limit = *n;
  }
  if (const std::string text = first_value(params, "buckets"); !text.empty()) {
    const auto n = parse_count(text, max_buckets);
    if (!n || *n == 0)
      return error_reply(400, "buckets: expected 1.." + std::to_string(max_buckets));
    options.buckets = *n;
  }
  rules::event_filter filter;
  try {
    filter = rules::event_filter::parse(first_value(params, "filter"));
  } catch (const rules::event_filter_error& e) {
    return error_reply(400, e.what());
  }

  std::string lines;
  bool first = true;
  const search_result r = search_archive(templates, filter, options,
                                         [&](const collector::event&, std::string_view line) {
                                           if (!first) lines += ',';
                                           first = false;
                                           lines.append(line);
                                           return lines.size() < max_lines_bytes;
                                         });
  std::string body = "{\"lines\":[";
  body += lines;
  body += "],\"histogram\":{\"start\":\"";
  body += format_rfc3339_millis(r.histogram.start);
  body += "\",\"step_seconds\":" + std::to_string(r.histogram.step.count()) + ",\"counts\":[";
  for (std::size_t i = 0; i < r.histogram.counts.size(); ++i) {
    if (i > 0) body += ',';
    body += std::to_string(r.histogram.counts[i]);
  }
  body += "]},\"files_scanned\":" + std::to_string(r.files_scanned) +
          ",\"bytes_scanned\":" + std::to_string(r.bytes_scanned) +
          ",\"bad_lines\":" + std::to_string(r.bad_lines) +
          ",\"truncated\":" + (r.truncated ? "true" : "false") + "}\n";
  return {200, "application/json", std::move(body)};
}

void register_search_api(admin_server& server, const config::config& cfg,
                         const tocsin::clock& time) {
  // At most two searches at once: the admin listener's other threads stay free for /metrics,
  // /healthz and the rest of the API whatever a client asks for.
  constexpr int max_running = 2;
  auto running = std::make_shared<std::atomic<int>>(0);
  server.handle("/api/v1/search", [templates = archive_templates(cfg), &time,
                                   running](const http_request_view& req) {
    if (running->fetch_add(1) >= max_running) {
      running->fetch_sub(1);
      return http_reply{429,
                        "application/json",
                        R"({"error":"two searches are running; try again when one is done"})"
                        "\n",
                        {{"Retry-After", "1"}}};
    }
    struct release {
      std::atomic<int>& count;
      ~release() { count.fetch_sub(1); }
    } done{*running};
    return search_request(templates, req, time);
  });
}

}  // namespace tocsin::search
