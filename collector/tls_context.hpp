#pragma once
// The TLS side of a `transport: tls` input (syslog over TLS, RFC 5425): the server's
// boost::asio::ssl::context built once per input at start-up, and the checks made on a client
// after its handshake (permitted_peers).

#include "config/config.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/system/error_code.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tocsin::collector {

// Whether a permitted_peers entry matches one DNS name of a certificate, case-insensitively.
// `*.example.com` matches exactly one label in front (a.example.com, not a.b.example.com nor
// example.com); any other entry must equal the name. A trailing dot on either side is ignored.
bool peer_name_matches(std::string_view pattern, std::string_view name);

// Why a permitted_peers entry is unusable ("" when it is fine): empty, or a '*' anywhere but as
// the whole first label.
std::string peer_pattern_problem(std::string_view pattern);

// The names a certificate identifies its holder by: its subjectAltName DNS names, or, only when
// it has none, its subject's common name(s).
std::vector<std::string> certificate_peer_names(X509* cert);

// One TLS input's server context: TLS 1.2 or later, its certificate chain and key, and the client
// verification its `client_auth` asks for (`ca` as the trust anchor). Shared by the input's shards
// (an SSL_CTX is safe to use from several threads once it is set up).
class tls_server_context {
 public:
  // Throws std::runtime_error "input NAME: tls ...: ..." naming the file for an unreadable or
  // invalid cert, key or CA, a key that does not match the cert, or a bad permitted_peers entry.
  // Relative paths resolve against the directory of the config file the input is written in.
  explicit tls_server_context(const config::input_config& input);

  boost::asio::ssl::context& context() { return context_; }

  // After a successful handshake: why this peer may not send (its certificate's names match no
  // permitted_peers entry, or it sent no certificate), or nullopt when it may. Always nullopt
  // without permitted_peers.
  [[nodiscard]] std::optional<std::string> refuse_peer(SSL* ssl) const;

 private:
  boost::asio::ssl::context context_;
  std::vector<std::string> permitted_peers_;
};

// What went wrong in a failed server handshake, for the log: OpenSSL's reason, plus the
// certificate verification error when the client's certificate was refused.
std::string describe_handshake_failure(SSL* ssl, const boost::system::error_code& ec);

// `tocsin check-config`'s dry run of the above for every tls input: one
// `FILE:LINE:COL: input NAME: tls ...` line per problem; empty when all are fine.
std::vector<std::string> check_tls_inputs(const config::config& cfg);

}  // namespace tocsin::collector
