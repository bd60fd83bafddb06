#pragma once
// Config problems worth a look that do not stop a config from loading, such as a key of
// Alertmanager's that tocsin accepts and ignores. They go to stderr, where check-config's
// output and the daemon's log (the journal) both are; a test may take them instead.

#include <functional>
#include <string>

namespace tocsin::config {

// Reports `message` (`FILE:LINE:COL: …`) as "warning: " + message.
void warn(const std::string& message);

// Where warn() sends its messages from now on; returns the previous handler. An empty handler
// restores stderr.
using warning_handler = std::function<void(const std::string& message)>;
warning_handler set_warning_handler(warning_handler handler);

}  // namespace tocsin::config
