#pragma once
// Throwaway X.509 certificates for TLS tests, made with the real `openssl` command line tool:
// a CA, and certificates it signs for servers and clients. P-256 keys, valid for two days.

#include <filesystem>
#include <string>
#include <vector>

namespace tocsin::test {

// A certificate and its unencrypted private key, both PEM files.
struct cert_files {
  std::filesystem::path cert;
  std::filesystem::path key;
};

// What goes into a certificate the CA issues.
struct cert_request {
  std::string common_name;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries; none: no DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries
};

// A self-signed CA whose files live in `dir` (which must exist and outlive it). Every call runs
// openssl and throws std::runtime_error with its output when that fails.
class test_ca {
 public:
  test_ca(std::filesystem::path dir, std::string name);

  // The CA certificate (the trust anchor to give a server or client) and its key.
  [[nodiscard]] const cert_files& files() const { return files_; }

  // A certificate for `request` signed by this CA, usable by a TLS server and client, written
  // to dir/<stem>.crt and dir/<stem>.key.
  [[nodiscard]] cert_files issue(const std::string& stem, const cert_request& request) const;

 private:
  std::filesystem::path dir_;
  std::string name_;
  cert_files files_;
};

}  // namespace tocsin::test
