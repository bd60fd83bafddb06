#include "core/tls_server.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace tocsin {
namespace {

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// A key with a passphrase would make OpenSSL prompt on the terminal; refuse it instead.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

}  // namespace

std::string openssl_reason() {
  const unsigned long first = ERR_peek_error();
  ERR_clear_error();
  const char* reason = first != 0 ? ERR_reason_error_string(first) : nullptr;
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

void require_readable(const char* what, const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw tls_setting_error(std::string("tls ") + what + " " + quoted(file) +
                            " cannot be read: " + std::strerror(errno));
  }
}

void configure_server_tls(boost::asio::ssl::context& context, const std::filesystem::path& cert,
                          const std::filesystem::path& key) {
  SSL_CTX* ctx = context.native_handle();
  ERR_clear_error();
  // RFC 5425 as updated by RFC 9662 for syslog, and today's practice everywhere: TLS 1.2 or later.
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    throw tls_setting_error("cannot require TLS 1.2: " + openssl_reason());
  }
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);

  require_readable("cert", cert);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    throw tls_setting_error("tls cert " + quoted(cert) +
                            " is not a PEM certificate (chain): " + openssl_reason());
  }
  require_readable("key", key);
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    const unsigned long err = ERR_peek_error();
    if (ERR_GET_REASON(err) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      throw tls_setting_error("tls key " + quoted(key) + " does not match tls cert " +
                              quoted(cert));
    }
    throw tls_setting_error("tls key " + quoted(key) +
                            " is not an unencrypted PEM private key: " + openssl_reason());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    throw tls_setting_error("tls key " + quoted(key) + " does not match tls cert " + quoted(cert) +
                            ": " + openssl_reason());
  }
}

}  // namespace tocsin
