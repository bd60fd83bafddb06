#pragma once
// tests/integration/peers/smtp_server.py (aiosmtpd) on a free loopback port: the test plays the
// mail relay and asserts on the messages tocsin sent.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::test {

class smtp_server {
 public:
  // Starts the server with smtp_server.py's extra `options` (e.g. TLS or AUTH flags) and waits
  // until it listens; throws std::runtime_error when it does not within 20 s.
  explicit smtp_server(const std::vector<std::string>& options = {});

  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Where it stores each accepted message: NNN.json (envelope and headers) and NNN.eml.
  [[nodiscard]] std::filesystem::path out() const { return dir_ / "mail"; }

  // What the server made of each message it accepted (the .json files), in order.
  [[nodiscard]] std::vector<nlohmann::json> messages() const;
  // The n-th accepted message as it came over the wire (the .eml file).
  [[nodiscard]] std::string raw_message(std::size_t n) const;

 private:
  temp_dir dir_;
  std::uint16_t port_;
  std::unique_ptr<child_process> process_;
};

}  // namespace tocsin::test
