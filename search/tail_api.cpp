#include "search/tail_api.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "core/http_query.hpp"
#include "rules/event_filter.hpp"

namespace tocsin::search {
namespace {

// A subscription as the admin listener's event stream: released (and so unsubscribed) when the
// client goes.
class subscription_stream final : public event_stream {
 public:
  subscription_stream(std::shared_ptr<tail_subscription> subscription, std::string greeting)
      : subscription_(std::move(subscription)), greeting_(std::move(greeting)) {}
  ~subscription_stream() override { subscription_->close(); }
  subscription_stream(const subscription_stream&) = delete;
  subscription_stream& operator=(const subscription_stream&) = delete;

  std::string take() override {
    // The greeting goes first, so the client knows at once that the tail is running.
    return std::exchange(greeting_, std::string()) + subscription_->take();
  }
  [[nodiscard]] bool open() const override { return !subscription_->closed(); }

 private:
  std::shared_ptr<tail_subscription> subscription_;
  std::string greeting_;
};

http_reply error_reply(unsigned status, const std::string& message) {
  return {status, "application/json", nlohmann::json{{"error", message}}.dump() + "\n"};
}

}  // namespace

void register_tail_api(admin_server& admin, live_tail& tail) {
  admin.handle("/api/v1/tail", [&tail](const http_request_view& req) {
    if (req.method != "GET") return error_reply(405, "use GET");
    const std::string text = first_value(parse_query(req.target), "filter");
    rules::event_filter filter;
    try {
      filter = rules::event_filter::parse(text);
    } catch (const rules::event_filter_error& e) {
      return error_reply(400, std::string("filter: ") + e.what());
    }
    auto subscription = tail.subscribe(std::move(filter));
    if (!subscription) {
      return error_reply(429, "too many live tails are open; close one and try again");
    }
    http_reply reply;
    reply.stream = std::make_shared<subscription_stream>(
        std::move(subscription),
        "event: started\ndata: " + nlohmann::json{{"filter", text}}.dump() + "\n\n");
    return reply;
  });
}

}  // namespace tocsin::search
