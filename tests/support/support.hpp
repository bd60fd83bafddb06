#pragma once
// Everything in tests/support for integration tests: temp dirs, processes, ports, HTTP, files,
// a mock Kafka cluster.

#include "tests/support/files.hpp"       // IWYU pragma: export
#include "tests/support/kafka_mock.hpp"  // IWYU pragma: export
#include "tests/support/net.hpp"         // IWYU pragma: export
#include "tests/support/process.hpp"     // IWYU pragma: export
#include "tests/support/temp_dir.hpp"    // IWYU pragma: export
#include "tests/support/wait.hpp"        // IWYU pragma: export
