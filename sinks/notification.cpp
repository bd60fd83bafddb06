#include "sinks/notification.hpp"

#include <algorithm>
#include <cstdio>

namespace tocsin::sinks {
namespace {

// The entries every map in `maps` has with the same value (Alertmanager's common labels).
template <class Map, class Project>
Map common_entries(const std::vector<rules::alert>& alerts, Project project) {
  if (alerts.empty()) return {};
  Map common = project(alerts.front());
  for (auto a = alerts.begin() + 1; a != alerts.end() && !common.empty(); ++a) {
    const Map& other = project(*a);
    std::erase_if(common, [&](const auto& entry) {
      const auto it = other.find(entry.first);
      return it == other.end() || it->second != entry.second;
    });
  }
  return common;
}

// FNV-1a 64, fed field by field; each field ends in a byte no field holds (0xff: not UTF-8), so
// ("ab","c") and ("a","bc") differ.
class fnv1a {
 public:
  void add(std::string_view bytes) {
    for (const unsigned char c : bytes) mix(c);
    mix(0xff);
  }
  [[nodiscard]] std::string hex() const {
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h_));
    return out;
  }

 private:
  void mix(unsigned char c) {
    h_ ^= c;
    h_ *= 1099511628211ULL;
  }
  std::uint64_t h_ = 14695981039346656037ULL;
};

}  // namespace

std::string notification_id(std::string_view receiver, std::string_view group_key,
                            std::int64_t previous_sent_at_ms, const std::set<std::string>& firing,
                            const std::set<std::string>& resolved) {
  fnv1a h;
  h.add("tocsin-notification-v1");
  h.add(receiver);
  h.add(group_key);
  h.add(std::to_string(previous_sent_at_ms));
  h.add("firing");
  for (const std::string& fp : firing) h.add(fp);
  h.add("resolved");
  for (const std::string& fp : resolved) h.add(fp);
  return h.hex();
}

bool notification::firing() const {
  return std::any_of(alerts.begin(), alerts.end(), [](const rules::alert& a) { return a.firing; });
}

std::size_t notification::firing_count() const {
  return static_cast<std::size_t>(
      std::count_if(alerts.begin(), alerts.end(), [](const rules::alert& a) { return a.firing; }));
}

std::string notification::display_name() const {
  const rules::label_set common = common_labels();
  if (const auto it = common.find("alertname"); it != common.end()) return it->second;
  std::string name;
  for (const auto& [label, value] : group_labels) name += (name.empty() ? "" : " ") + value;
  return name.empty() ? "alerts" : name;
}

rules::label_set notification::common_labels() const {
  return common_entries<rules::label_set>(
      alerts, [](const rules::alert& a) -> const rules::label_set& { return a.labels; });
}

std::map<std::string, std::string> notification::common_annotations() const {
  return common_entries<std::map<std::string, std::string>>(
      alerts, [](const rules::alert& a) -> const std::map<std::string, std::string>& {
        return a.annotations;
      });
}

}  // namespace tocsin::sinks
