#pragma once
// Everything in tests/support that any test can use: byte strings, temp dirs, processes, ports,
// HTTP and SMTP peers, files, log lines, waiting, certificates, a mock Kafka cluster. Two headers
// are left out because they need product libraries that tests/support does not link:
// config_errors.hpp (config/) and metrics.hpp (core/).

#include "tests/support/bytes.hpp"         // IWYU pragma: export
#include "tests/support/files.hpp"         // IWYU pragma: export
#include "tests/support/http_capture.hpp"  // IWYU pragma: export
#include "tests/support/kafka_mock.hpp"    // IWYU pragma: export
#include "tests/support/log_lines.hpp"     // IWYU pragma: export
#include "tests/support/net.hpp"           // IWYU pragma: export
#include "tests/support/process.hpp"       // IWYU pragma: export
#include "tests/support/smtp_server.hpp"   // IWYU pragma: export
#include "tests/support/temp_dir.hpp"      // IWYU pragma: export
#include "tests/support/test_certs.hpp"    // IWYU pragma: export
#include "tests/support/wait.hpp"          // IWYU pragma: export
