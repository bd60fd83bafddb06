#include "app/commands.hpp"
#include "core/version_info.hpp"

#include <spdlog/version.h>
#include <zlib.h>
#include <boost/version.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace tocsin::app {

int run_version() {
  std::printf("tocsin %s\n", TOCSIN_VERSION);
  std::printf("  boost %d.%d.%d\n", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000,
              BOOST_VERSION % 100);
  std::printf("  spdlog %d.%d.%d\n", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH);
  std::printf("  nlohmann-json %d.%d.%d\n", NLOHMANN_JSON_VERSION_MAJOR,
              NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH);
  std::printf("  zlib %s\n", zlibVersion());
  std::printf("  compiler %s\n", __VERSION__);
  return 0;
}

}  // namespace tocsin::app
