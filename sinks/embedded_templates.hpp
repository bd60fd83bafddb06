#pragma once
// Alertmanager's default.tmpl and email.tmpl, compiled in (sinks/templates/, generated source).

#include <span>
#include <string_view>

namespace tocsin::sinks {

struct embedded_template {
  std::string_view name;  // "default.tmpl"
  std::string_view text;
};

namespace generated {
// In the order Alertmanager parses them: default.tmpl, then email.tmpl.
std::span<const embedded_template> alertmanager_templates();
}  // namespace generated

}  // namespace tocsin::sinks
