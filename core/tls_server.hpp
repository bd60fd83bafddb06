#pragma once
// The server side of TLS shared by the TLS inputs and the admin listener: TLS 1.2 or later and
// a certificate chain with its key, each problem named by file.

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace tocsin {

// A problem with one TLS setting ("tls cert '/x.pem' cannot be read: ..."); callers prefix it
// with what the setting belongs to.
struct tls_setting_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The reason of the oldest error in OpenSSL's queue (the cause; later ones are consequences),
// leaving the queue empty for the next call.
std::string openssl_reason();

// TLS 1.2 or later, no compression or renegotiation, and `cert` (a PEM chain) with its
// unencrypted PEM `key`. Throws tls_setting_error for an unreadable or invalid file or a key that
// does not match the certificate.
void configure_server_tls(boost::asio::ssl::context& context, const std::filesystem::path& cert,
                          const std::filesystem::path& key);

// Throws tls_setting_error when `file` cannot be opened, with what the OS said (OpenSSL's own
// error for a missing file is vague). `what` names the setting: "cert", "key", "ca".
void require_readable(const char* what, const std::filesystem::path& file);

}  // namespace tocsin
