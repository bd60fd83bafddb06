#include "sinks/notification.hpp"

#include <algorithm>

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

}  // namespace

bool notification::firing() const {
  return std::any_of(alerts.begin(), alerts.end(), [](const rules::alert& a) { return a.firing; });
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
