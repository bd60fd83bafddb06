#include "tests/support/smtp_server.hpp"

#include <stdexcept>

#include "tests/support/files.hpp"
#include "tests/support/net.hpp"
#include "tests/support/wait.hpp"

namespace tocsin::test {

namespace fs = std::filesystem;

smtp_server::smtp_server(const std::vector<std::string>& options)
    : dir_("smtp"), port_(free_port()) {
  fs::create_directories(out());
  std::vector<std::string> argv = {find_program("python3").string(),
                                   peer_script("smtp_server.py").string(),
                                   "--port",
                                   std::to_string(port_),
                                   "--out",
                                   out().string()};
  argv.insert(argv.end(), options.begin(), options.end());
  process_options process;
  process.stdout_path = dir_ / "server.out";
  process.stderr_path = dir_ / "server.err";
  process_ = std::make_unique<child_process>(argv, process);
  const bool ready = wait_until(
      [&] { return read_file_if_present(dir_ / "server.out").find("READY") != std::string::npos; },
      20s);
  if (!ready) {
    throw std::runtime_error("smtp_server.py did not start: " +
                             read_file_if_present(dir_ / "server.err"));
  }
}

std::vector<nlohmann::json> smtp_server::messages() const {
  std::vector<nlohmann::json> all;
  for (const fs::path& f : find_files(out(), ".json")) {
    all.push_back(nlohmann::json::parse(read_file(f)));
  }
  return all;
}

std::string smtp_server::raw_message(std::size_t n) const {
  return read_file(find_files(out(), ".eml").at(n));
}

}  // namespace tocsin::test
