#include "sinks/notification_text.hpp"

namespace tocsin::sinks {
namespace {

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

notification_text::notification_text(std::string_view text) : template_(text) {}

std::string notification_text::render(const notification& n, text_escape escape) const {
  const bool firing = n.firing();
  const rules::label_set labels = n.common_labels();
  const auto annotations = n.common_annotations();
  return template_.render([&](std::string_view name, std::string& out) {
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
