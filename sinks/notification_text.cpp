#include "sinks/notification_text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>

#include "sinks/template_data.hpp"

namespace tocsin::sinks {
namespace {

// Alertmanager's template set for a config, loaded once per config (every integration of a
// config shares it; a reload reads the files again).
std::shared_ptr<const go_template::template_set> templates_of(
    const std::shared_ptr<const config::global_config>& global) {
  static std::mutex mutex;
  static std::weak_ptr<const config::global_config> cached_for;
  static std::shared_ptr<const go_template::template_set> cached;
  static const std::vector<std::string> no_patterns;
  std::lock_guard lock(mutex);
  if (global && cached && cached_for.lock() == global) return cached;
  auto loaded = std::make_shared<const go_template::template_set>(
      load_alertmanager_templates(global ? global->templates : no_patterns));
  if (global) {
    cached_for = global;
    cached = loaded;
  }
  return loaded;
}

void append(std::string_view value, text_escape escape, std::string& out) {
  if (escape != nullptr) {
    escape(value, out);
  } else {
    out += value;
  }
}

// A generated text has no markup of its own: all of it is escaped.
std::string escaped(const std::string& text, text_escape escape) {
  if (escape == nullptr) return text;
  std::string out;
  out.reserve(text.size());
  escape(text, out);
  return out;
}

}  // namespace

notification_text::notification_text(std::string_view text) : placeholders_(text) {}

notification_text::notification_text(std::shared_ptr<const go_template::template_set> templates,
                                     std::string name, go_template::escaping mode)
    : go_(std::move(templates)), go_name_(std::move(name)), go_mode_(mode) {}

std::string notification_text::render(const notification& n, text_escape escape) const {
  if (go_) {
    go_template::render_result r = go_->execute(go_name_, alertmanager_template_data(n), go_mode_);
    if (r.ok()) return std::move(r.text);
    spdlog::warn("receiver {}: template {} failed: {}", n.receiver, go_name_, r.error);
    return "[template error: " + r.error + "]";
  }
  const bool firing = n.firing();
  const rules::label_set labels = n.common_labels();
  const auto annotations = n.common_annotations();
  return placeholders_.render([&](std::string_view name, std::string& out) {
    if (name == "status") {
      out += firing ? "firing" : "resolved";
    } else if (name == "count") {
      out += std::to_string(firing ? n.firing_count() : n.alerts.size());
    } else if (const auto l = labels.find(std::string(name)); l != labels.end()) {
      append(l->second, escape, out);
    } else if (const auto a = annotations.find(std::string(name)); a != annotations.end()) {
      append(a->second, escape, out);
    }
  });
}

bool uses_go_syntax(std::string_view text) {
  for (std::size_t open = text.find("{{"); open != std::string_view::npos;
       open = text.find("{{", open + 2)) {
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) return false;
    std::string_view action = text.substr(open + 2, close - open - 2);
    while (!action.empty() && (action.front() == ' ' || action.front() == '\t')) {
      action.remove_prefix(1);
    }
    while (!action.empty() && (action.back() == ' ' || action.back() == '\t')) {
      action.remove_suffix(1);
    }
    const bool bare_name =
        !action.empty() &&
        (std::isalpha(static_cast<unsigned char>(action[0])) != 0 || action[0] == '_') &&
        std::all_of(action.begin(), action.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
        });
    if (!bare_name) return true;
  }
  return false;
}

text_reader::text_reader(config::section_reader& in, const config::receiver_config& receiver)
    : in_(in), alertmanager_syntax_(receiver.syntax == config::receiver_syntax::alertmanager) {
  try {
    templates_ = templates_of(receiver.global);
  } catch (const std::exception& e) {
    in_.error("", std::string("cannot load the templates: ") + e.what());
  }
}

std::optional<notification_text> text_reader::read(std::string_view key,
                                                   std::string_view alertmanager_default,
                                                   go_template::escaping mode) {
  if (!in_.has(key)) {
    if (!alertmanager_syntax_ || alertmanager_default.empty()) return std::nullopt;
    return go(key, alertmanager_default, {}, mode);
  }
  const auto text = in_.text(key);
  if (!text) return std::nullopt;
  if (!alertmanager_syntax_ && !uses_go_syntax(*text)) return notification_text(*text);
  return go(key, *text, in_.where(key), mode);
}

std::optional<notification_text> text_reader::parse(
    std::string_view key, std::string_view value,
    const std::optional<config::source_location>& where) {
  if (!alertmanager_syntax_ && !uses_go_syntax(value)) return notification_text(value);
  return go(key, value, where.value_or(in_.where(key)));
}

std::optional<notification_text> text_reader::go(std::string_view key, std::string_view text,
                                                 const config::source_location& where,
                                                 go_template::escaping mode) {
  if (!templates_) return std::nullopt;
  // A copy of the shared set (its parsed templates are shared, not copied) with this text in it.
  auto own = std::make_shared<go_template::template_set>(*templates_);
  const std::string name = "field " + std::string(key);
  if (auto problem = own->parse(name, text, {where.file, std::max(where.line, 1)})) {
    in_.error(key, *problem);
    return std::nullopt;
  }
  return notification_text(std::move(own), name, mode);
}

std::string default_title(const notification& n, text_escape escape) {
  const std::string title =
      (n.firing() ? "[FIRING:" + std::to_string(n.firing_count()) + "] " : "[RESOLVED] ") +
      n.display_name();
  return escaped(title, escape);
}

std::string default_text(const notification& n, text_escape escape) {
  std::string text;
  for (const bool firing : {true, false}) {
    bool heading = false;
    for (const rules::alert& a : n.alerts) {
      if (a.firing != firing) continue;
      if (!heading) {
        text += text.empty() ? "" : "\n";
        text += firing ? "Firing:" : "Resolved:";
        heading = true;
      }
      text += "\n-";
      if (const auto s = a.annotations.find("summary"); s != a.annotations.end()) {
        text += " " + s->second;
        continue;
      }
      for (const auto& [name, value] : a.labels) text += " " + name + "=" + value;
    }
  }
  return escaped(text, escape);
}

}  // namespace tocsin::sinks
