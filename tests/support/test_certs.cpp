#include "tests/support/test_certs.hpp"

#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

#include <random>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace tocsin::test {
namespace {

constexpr const char* kDays = "2";

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_command(argv);
  if (r.exit_code != 0) {
    std::string line;
    for (const auto& a : argv) line += a + " ";
    throw std::runtime_error("test certificates: `" + line + "` failed (" +
                             std::to_string(r.exit_code) + "):\n" + r.stdout_text + r.stderr_text);
  }
}

// Our own openssl config for each call, so the system's openssl.cnf adds nothing unexpected.
std::string request_config(const std::string& common_name, const std::string& extensions) {
  std::ostringstream out;
  out << "[req]\nprompt = no\ndistinguished_name = dn\n\n[dn]\nO = tocsin tests\n";
  if (!common_name.empty()) out << "CN = " << common_name << "\n";
  out << "\n[ext]\n" << extensions;
  return out.str();
}

std::string random_serial() {
  std::random_device rd;
  std::ostringstream out;
  out << "0x" << std::hex << ((std::uint64_t{rd()} << 31) ^ rd() ^ 0x1000000000000000ULL);
  return out.str();
}

const std::vector<std::string> kNewKey = {"-newkey", "ec", "-pkeyopt",
                                          "ec_paramgen_curve:prime256v1", "-nodes"};

}  // namespace

test_ca::test_ca(std::filesystem::path dir, std::string name)
    : dir_(std::move(dir)), name_(std::move(name)) {
  files_ = {dir_ / (name_ + ".crt"), dir_ / (name_ + ".key")};
  const auto conf = dir_ / (name_ + ".cnf");
  write_file(conf, request_config(name_,
                                  "basicConstraints = critical, CA:TRUE\n"
                                  "keyUsage = critical, keyCertSign, cRLSign\n"
                                  "subjectKeyIdentifier = hash\n"));
  std::vector<std::string> args{"req", "-x509", "-new"};
  args.insert(args.end(), kNewKey.begin(), kNewKey.end());
  args.insert(args.end(),
              {"-config", conf.string(), "-extensions", "ext", "-days", kDays, "-set_serial",
               random_serial(), "-keyout", files_.key.string(), "-out", files_.cert.string()});
  openssl(args);
}

cert_files test_ca::issue(const std::string& stem, const cert_request& request) const {
  const cert_files out{dir_ / (stem + ".crt"), dir_ / (stem + ".key")};
  std::string alt_names;
  for (const auto& dns : request.dns_names)
    alt_names += (alt_names.empty() ? "" : ",") + ("DNS:" + dns);
  for (const auto& ip : request.ip_addresses)
    alt_names += (alt_names.empty() ? "" : ",") + ("IP:" + ip);
  std::string extensions =
      "basicConstraints = critical, CA:FALSE\n"
      "keyUsage = critical, digitalSignature, keyEncipherment, keyAgreement\n"
      "extendedKeyUsage = serverAuth, clientAuth\n"
      "subjectKeyIdentifier = hash\n"
      "authorityKeyIdentifier = keyid\n";
  if (!alt_names.empty()) extensions += "subjectAltName = " + alt_names + "\n";
  const auto conf = dir_ / (stem + ".cnf");
  const auto csr = dir_ / (stem + ".csr");
  write_file(conf, request_config(request.common_name, extensions));

  std::vector<std::string> args{"req", "-new"};
  args.insert(args.end(), kNewKey.begin(), kNewKey.end());
  args.insert(args.end(),
              {"-config", conf.string(), "-keyout", out.key.string(), "-out", csr.string()});
  openssl(args);
  openssl({"x509", "-req", "-in", csr.string(), "-CA", files_.cert.string(), "-CAkey",
           files_.key.string(), "-set_serial", random_serial(), "-days", kDays, "-sha256",
           "-extfile", conf.string(), "-extensions", "ext", "-out", out.cert.string()});
  return out;
}

}  // namespace tocsin::test
