#include "collector/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/tls_server.hpp"

namespace tocsin::collector {
namespace {

namespace ssl = boost::asio::ssl;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view without_trailing_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// Relative paths resolve against the directory of the config file, as rules_files do.
std::filesystem::path resolve(const std::string& value, const config::input_config& input) {
  std::filesystem::path p(value);
  if (p.is_relative() && !input.where.file.empty()) {
    p = std::filesystem::path(input.where.file).parent_path() / p;
  }
  return p;
}

void configure(ssl::context& context, const config::input_config& input,
               const config::tls_config& tls) {
  configure_server_tls(context, resolve(tls.cert, input), resolve(tls.key, input));
  SSL_CTX* ctx = context.native_handle();
  if (!tls.ca.empty()) {
    const auto ca = resolve(tls.ca, input);
    require_readable("ca", ca);
    if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1) {
      throw tls_setting_error("tls ca " + quoted(ca) +
                              " is not a PEM CA certificate file: " + openssl_reason());
    }
    // Tell clients which CAs we accept, so one with several certificates picks the right one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str())) {
      SSL_CTX_set_client_CA_list(ctx, names);
    }
    ERR_clear_error();
  }

  int mode = SSL_VERIFY_NONE;
  if (tls.client_auth == "optional") mode = SSL_VERIFY_PEER;
  if (tls.client_auth == "required") mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx, mode, nullptr);
  // Without a session id context, OpenSSL refuses resumed sessions when it verifies clients.
  const std::string session_context = "tocsin/" + input.name;
  SSL_CTX_set_session_id_context(ctx,
                                 reinterpret_cast<const unsigned char*>(session_context.data()),
                                 static_cast<unsigned int>(std::min<std::size_t>(
                                     session_context.size(), SSL_MAX_SID_CTX_LENGTH)));

  for (const auto& pattern : tls.permitted_peers) {
    if (const auto problem = peer_pattern_problem(pattern); !problem.empty()) {
      throw tls_setting_error("tls permitted_peers entry '" + pattern + "': " + problem);
    }
  }
}

const config::tls_config& settings_of(const config::input_config& input) {
  if (!input.tls) throw std::runtime_error("input " + input.name + ": transport tls needs tls");
  return *input.tls;
}

}  // namespace

bool peer_name_matches(std::string_view pattern, std::string_view name) {
  pattern = without_trailing_dot(pattern);
  name = without_trailing_dot(name);
  if (pattern.empty() || name.empty()) return false;
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") {
    // Exactly one non-empty label in place of the '*'.
    const auto dot = name.find('.');
    if (dot == 0 || dot == std::string_view::npos) return false;
    return equal_ignoring_case(pattern.substr(2), name.substr(dot + 1));
  }
  return equal_ignoring_case(pattern, name);
}

std::string peer_pattern_problem(std::string_view pattern) {
  if (without_trailing_dot(pattern).empty()) return "empty name";
  const auto star = pattern.find('*');
  if (star == std::string_view::npos) return "";
  if (star != 0 || pattern.size() < 3 || pattern[1] != '.' ||
      pattern.find('*', 1) != std::string_view::npos) {
    return "'*' is only allowed as the whole first label, as in *.example.com";
  }
  return "";
}

std::vector<std::string> certificate_peer_names(X509* cert) {
  std::vector<std::string> names;
  if (cert == nullptr) return names;
  // A name with an embedded NUL is an old trick to make a check see a different name: skip it.
  const auto add = [&names](const unsigned char* data, int size) {
    if (data == nullptr || size <= 0) return;
    std::string name(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
    if (name.find('\0') == std::string::npos) names.push_back(std::move(name));
  };
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* entry = sk_GENERAL_NAME_value(sans, i);
      if (entry->type == GEN_DNS) {
        add(ASN1_STRING_get0_data(entry->d.dNSName), ASN1_STRING_length(entry->d.dNSName));
      }
    }
    GENERAL_NAMES_free(sans);
  }
  if (!names.empty()) return names;
  X509_NAME* subject = X509_get_subject_name(cert);
  for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) {
    unsigned char* utf8 = nullptr;
    const int size =
        ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    add(utf8, size);
    OPENSSL_free(utf8);
  }
  return names;
}

tls_server_context::tls_server_context(const config::input_config& input)
    : context_(ssl::context::tls_server), permitted_peers_(settings_of(input).permitted_peers) {
  try {
    configure(context_, input, *input.tls);
  } catch (const tls_setting_error& e) {
    throw std::runtime_error("input " + input.name + ": " + e.what());
  }
}

std::optional<std::string> tls_server_context::refuse_peer(SSL* ssl) const {
  if (permitted_peers_.empty()) return std::nullopt;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return "no client certificate (permitted_peers needs one)";
  if (SSL_get_verify_result(ssl) != X509_V_OK) return "client certificate not verified";
  const auto names = certificate_peer_names(cert);
  for (const auto& name : names) {
    for (const auto& pattern : permitted_peers_) {
      if (peer_name_matches(pattern, name)) return std::nullopt;
    }
  }
  if (names.empty()) return "client certificate has no DNS name and no common name";
  std::string carried;
  for (const auto& name : names) carried += (carried.empty() ? "" : ", ") + name;
  return "client certificate names [" + carried + "] match no permitted_peers entry";
}

std::string describe_handshake_failure(SSL* ssl, const boost::system::error_code& ec) {
  if (ec == ssl::error::stream_truncated || ec == boost::asio::error::eof) {
    return "connection closed during the TLS handshake";
  }
  std::string what = "TLS handshake failed: " + ec.message();
  if (ssl != nullptr) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      what += std::string(" (client certificate: ") + X509_verify_cert_error_string(verify) + ")";
    }
  }
  return what;
}

std::vector<std::string> check_tls_inputs(const config::config& cfg) {
  std::vector<std::string> errors;
  for (const auto& input : cfg.inputs) {
    if (input.transport_kind != config::transport::tls || !input.tls) continue;
    try {
      tls_server_context{input};
    } catch (const std::exception& e) {
      errors.push_back(config::location_prefix(input.where) + e.what());
    }
  }
  return errors;
}

}  // namespace tocsin::collector
