// The TLS input's server context: permitted_peers name matching, the names a certificate is
// known by, start-up errors for bad files, and real handshakes on loopback against clients with
// certificates from `openssl` (a permitted name, another name, an unknown CA, none, TLS 1.1).

#include "collector/tls_context.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <cstdio>
#include <memory>
#include <thread>

#include "tests/support/support.hpp"
#include "tests/support/test_certs.hpp"

namespace tocsin::collector {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using test::cert_files;

TEST(peer_name_matches, exact_names_ignore_case_and_a_trailing_dot) {
  EXPECT_TRUE(peer_name_matches("relay1.example.com", "relay1.example.com"));
  EXPECT_TRUE(peer_name_matches("Relay1.Example.COM", "relay1.example.com"));
  EXPECT_TRUE(peer_name_matches("relay1.example.com.", "RELAY1.example.com"));
  EXPECT_TRUE(peer_name_matches("relay1.example.com", "relay1.example.com."));
  EXPECT_FALSE(peer_name_matches("relay1.example.com", "relay2.example.com"));
  EXPECT_FALSE(peer_name_matches("relay1.example.com", "relay1.example.com.evil.org"));
  EXPECT_FALSE(peer_name_matches("example.com", "relay1.example.com"));
  EXPECT_FALSE(peer_name_matches("", ""));
  EXPECT_FALSE(peer_name_matches("a.example.com", ""));
}

TEST(peer_name_matches, a_wildcard_stands_for_exactly_one_label) {
  EXPECT_TRUE(peer_name_matches("*.example.com", "a.example.com"));
  EXPECT_TRUE(peer_name_matches("*.example.com", "Web-01.EXAMPLE.com"));
  EXPECT_FALSE(peer_name_matches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(peer_name_matches("*.example.com", "example.com"));
  EXPECT_FALSE(peer_name_matches("*.example.com", ".example.com"));
  EXPECT_FALSE(peer_name_matches("*.example.com", "a.example.org"));
  EXPECT_FALSE(peer_name_matches("*.example.com", "aexample.com"));
  // A certificate's own wildcard name is no licence: it must equal the pattern.
  EXPECT_FALSE(peer_name_matches("a.example.com", "*.example.com"));
  EXPECT_TRUE(peer_name_matches("*.example.com", "*.example.com"));
}

TEST(peer_pattern_problem, only_a_whole_first_label_may_be_a_wildcard) {
  EXPECT_EQ(peer_pattern_problem("relay.example.com"), "");
  EXPECT_EQ(peer_pattern_problem("*.example.com"), "");
  EXPECT_NE(peer_pattern_problem(""), "");
  EXPECT_NE(peer_pattern_problem("*"), "");
  EXPECT_NE(peer_pattern_problem("web*.example.com"), "");
  EXPECT_NE(peer_pattern_problem("a.*.example.com"), "");
  EXPECT_NE(peer_pattern_problem("*.*.example.com"), "");
}

// A CA, a server certificate for 127.0.0.1/localhost and client certificates, made once.
class tls_certs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::temp_dir>("tocsin-tls-unit");
    ca_ = std::make_unique<test::test_ca>(dir_->path(), "test-ca");
    unknown_ca_ = std::make_unique<test::test_ca>(dir_->path(), "unknown-ca");
    server_ = ca_->issue("server", {"localhost", {"localhost"}, {"127.0.0.1"}});
    permitted_ = ca_->issue("permitted", {"ignored-cn.example.net", {"relay1.example.com"}, {}});
    other_name_ = ca_->issue("other", {"other", {"relay1.example.org", "x.y.example.com"}, {}});
    cn_only_ = ca_->issue("cn-only", {"Relay2.Example.com", {}, {"127.0.0.2"}});
    stranger_ = unknown_ca_->issue("stranger", {"stranger", {"relay1.example.com"}, {}});
  }
  static void TearDownTestSuite() {
    unknown_ca_.reset();
    ca_.reset();
    dir_.reset();
  }

  static config::input_config input(const std::string& client_auth = "none",
                                    std::vector<std::string> permitted_peers = {}) {
    config::input_config in;
    in.name = "syslog-tls";
    in.transport_kind = config::transport::tls;
    in.listen = {"127.0.0.1", 0};
    in.tls =
        config::tls_config{server_.cert.string(), server_.key.string(), ca_->files().cert.string(),
                           client_auth, std::move(permitted_peers)};
    in.where = {"tocsin.yaml", 7, 5};
    return in;
  }

  // What the constructor threw ("" when it did not).
  static std::string construction_error(const config::input_config& in) {
    try {
      tls_server_context context(in);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }

  static inline std::unique_ptr<test::temp_dir> dir_;
  static inline std::unique_ptr<test::test_ca> ca_, unknown_ca_;
  static inline cert_files server_, permitted_, other_name_, cn_only_, stranger_;
};

struct x509_deleter {
  void operator()(X509* x) const { X509_free(x); }
};

std::unique_ptr<X509, x509_deleter> read_cert(const std::filesystem::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "r");
  if (f == nullptr) return nullptr;
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return std::unique_ptr<X509, x509_deleter>(cert);
}

TEST_F(tls_certs, a_certificate_is_known_by_its_dns_names_else_its_common_name) {
  const auto permitted = read_cert(permitted_.cert);
  ASSERT_TRUE(permitted);
  EXPECT_EQ(certificate_peer_names(permitted.get()),
            std::vector<std::string>{"relay1.example.com"});  // the CN does not count
  const auto other = read_cert(other_name_.cert);
  ASSERT_TRUE(other);
  EXPECT_EQ(certificate_peer_names(other.get()),
            (std::vector<std::string>{"relay1.example.org", "x.y.example.com"}));
  const auto cn_only = read_cert(cn_only_.cert);  // an IP address SAN but no DNS name
  ASSERT_TRUE(cn_only);
  EXPECT_EQ(certificate_peer_names(cn_only.get()), std::vector<std::string>{"Relay2.Example.com"});
  EXPECT_TRUE(certificate_peer_names(nullptr).empty());
}

TEST_F(tls_certs, good_files_build_a_context) {
  EXPECT_EQ(construction_error(input()), "");
  EXPECT_EQ(construction_error(input("required", {"*.example.com", "relay1.example.org"})), "");
}

TEST_F(tls_certs, bad_files_are_start_up_errors_naming_input_and_file) {
  const auto garbage = dir_->write_file("garbage.pem", "this is not PEM\n");
  struct bad_case {
    std::string name;
    std::function<void(config::tls_config&)> spoil;
    std::string file;       // the file the message must name
    std::string complaint;  // and what it must say about it
  };
  const std::vector<bad_case> cases = {
      {"missing cert", [&](auto& t) { t.cert = (*dir_ / "nope.crt").string(); },
       (*dir_ / "nope.crt").string(), "cannot be read: No such file or directory"},
      {"cert not PEM", [&](auto& t) { t.cert = garbage.string(); }, garbage.string(),
       "is not a PEM certificate"},
      {"missing key", [&](auto& t) { t.key = (*dir_ / "nope.key").string(); },
       (*dir_ / "nope.key").string(), "cannot be read"},
      {"key not PEM", [&](auto& t) { t.key = garbage.string(); }, garbage.string(),
       "is not an unencrypted PEM private key"},
      {"key of another cert", [&](auto& t) { t.key = permitted_.key.string(); },
       permitted_.key.string(), "does not match tls cert"},
      {"missing ca", [&](auto& t) { t.ca = (*dir_ / "nope-ca.crt").string(); },
       (*dir_ / "nope-ca.crt").string(), "cannot be read"},
      {"ca not PEM", [&](auto& t) { t.ca = garbage.string(); }, garbage.string(),
       "is not a PEM CA certificate file"},
      {"bad pattern", [&](auto& t) { t.permitted_peers = {"web*.example.com"}; },
       "web*.example.com", "'*' is only allowed as the whole first label"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto in = input("required");
    c.spoil(*in.tls);
    const std::string error = construction_error(in);
    EXPECT_EQ(error.rfind("input syslog-tls: tls ", 0), 0u) << error;
    EXPECT_NE(error.find(c.file), std::string::npos) << error;
    EXPECT_NE(error.find(c.complaint), std::string::npos) << error;
  }
}

TEST_F(tls_certs, a_passphrase_protected_key_is_refused_without_prompting) {
  const auto encrypted = *dir_ / "encrypted.key";
  const auto r = test::run_command({"openssl", "pkey", "-in", server_.key.string(), "-aes256",
                                    "-passout", "pass:secret", "-out", encrypted.string()});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  auto in = input();
  in.tls->key = encrypted.string();
  const std::string error = construction_error(in);
  EXPECT_NE(error.find("is not an unencrypted PEM private key"), std::string::npos) << error;
}

TEST_F(tls_certs, relative_paths_resolve_against_the_config_file) {
  auto in = input();
  in.where.file = (dir_->path() / "tocsin.yaml").string();
  in.tls->cert = "server.crt";
  in.tls->key = "server.key";
  in.tls->ca = "test-ca.crt";
  EXPECT_EQ(construction_error(in), "");
}

TEST_F(tls_certs, check_tls_inputs_reports_file_line_col_per_bad_input) {
  const std::string yaml =
      "inputs:\n"
      "  - { name: good, type: syslog, transport: tls, listen: 127.0.0.1:0,\n"
      "      tls: { cert: " +
      server_.cert.string() + ", key: " + server_.key.string() +
      " } }\n"
      "  - { name: plain, type: syslog, transport: tcp, listen: 127.0.0.1:0 }\n"
      "  - { name: bad, type: syslog, transport: tls, listen: 127.0.0.1:0,\n"
      "      tls: { cert: " +
      server_.cert.string() + ", key: " + permitted_.key.string() + " } }\n";
  const auto cfg = config::load_string(yaml, "tocsin.yaml");
  const auto errors = check_tls_inputs(cfg);
  ASSERT_EQ(errors.size(), 1u);
  const auto& bad = cfg.inputs.at(2);
  EXPECT_EQ(errors[0].rfind(config::location_prefix(bad.where) + "input bad: tls key ", 0), 0u)
      << errors[0];
  EXPECT_EQ(errors[0].rfind("tocsin.yaml:5:", 0), 0u) << errors[0];
}

// --- real handshakes on loopback
// ------------------------------------------------------------------

struct client_options {
  std::optional<cert_files> cert;
  bool tls_1_1_only = false;
};

struct server_outcome {
  bool handshake_ok = false;
  std::string failure;                 // describe_handshake_failure() when it failed
  std::optional<std::string> refused;  // refuse_peer() after a good handshake
  bool got_client_cert = false;
};

// One connection: the server side runs on a thread with `server`, the client (an asio ssl
// stream trusting the test CA) connects from this one. Returns what the server saw.
server_outcome handshake(tls_server_context& server, const std::filesystem::path& trust,
                         const client_options& options) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  server_outcome outcome;
  std::thread server_thread([&] {
    tcp::socket socket(io);
    acceptor.accept(socket);
    ssl::stream<tcp::socket&> stream(socket, server.context());
    boost::system::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) {
      outcome.failure = describe_handshake_failure(stream.native_handle(), ec);
      return;
    }
    outcome.handshake_ok = true;
    outcome.got_client_cert = SSL_get0_peer_certificate(stream.native_handle()) != nullptr;
    outcome.refused = server.refuse_peer(stream.native_handle());
    // Read until the client closes, so its side of the handshake is never cut short.
    char byte;
    stream.read_some(asio::buffer(&byte, 1), ec);
  });

  ssl::context client_context(ssl::context::tls_client);
  client_context.set_verify_mode(ssl::verify_peer);
  client_context.load_verify_file(trust.string());
  if (options.cert) {
    client_context.use_certificate_chain_file(options.cert->cert.string());
    client_context.use_private_key_file(options.cert->key.string(), ssl::context::pem);
  }
  if (options.tls_1_1_only) {
    SSL_CTX_set_min_proto_version(client_context.native_handle(), TLS1_1_VERSION);
    SSL_CTX_set_max_proto_version(client_context.native_handle(), TLS1_1_VERSION);
    SSL_CTX_set_cipher_list(client_context.native_handle(), "DEFAULT@SECLEVEL=0");
  }
  tcp::socket socket(io);
  socket.connect(acceptor.local_endpoint());
  {
    ssl::stream<tcp::socket&> client(socket, client_context);
    boost::system::error_code ec;
    client.handshake(ssl::stream_base::client, ec);
    if (!ec) client.shutdown(ec);  // close_notify, then the server's read returns
  }
  socket.close();
  server_thread.join();
  return outcome;
}

TEST_F(tls_certs, required_client_auth_accepts_a_permitted_certificate) {
  tls_server_context server(input("required", {"*.example.com"}));
  const auto out = handshake(server, ca_->files().cert, {permitted_});
  EXPECT_TRUE(out.handshake_ok) << out.failure;
  EXPECT_TRUE(out.got_client_cert);
  EXPECT_FALSE(out.refused) << *out.refused;
}

TEST_F(tls_certs, required_client_auth_refuses_a_client_without_certificate) {
  tls_server_context server(input("required"));
  const auto out = handshake(server, ca_->files().cert, {});
  EXPECT_FALSE(out.handshake_ok);
  EXPECT_NE(out.failure.find("certificate"), std::string::npos) << out.failure;
}

TEST_F(tls_certs, a_certificate_from_an_unknown_ca_fails_the_handshake) {
  for (const char* mode : {"required", "optional"}) {
    SCOPED_TRACE(mode);
    tls_server_context server(input(mode));
    const auto out = handshake(server, ca_->files().cert, {stranger_});
    EXPECT_FALSE(out.handshake_ok);
    EXPECT_NE(out.failure.find("certificate verify failed"), std::string::npos) << out.failure;
    EXPECT_NE(out.failure.find("unable to get local issuer certificate"), std::string::npos)
        << out.failure;
  }
}

TEST_F(tls_certs, a_name_outside_permitted_peers_is_refused_after_the_handshake) {
  tls_server_context server(input("required", {"*.example.com", "relay9.example.org"}));
  const auto out = handshake(server, ca_->files().cert, {other_name_});
  ASSERT_TRUE(out.handshake_ok) << out.failure;
  ASSERT_TRUE(out.refused);
  EXPECT_EQ(*out.refused,
            "client certificate names [relay1.example.org, x.y.example.com] match no "
            "permitted_peers entry");
}

TEST_F(tls_certs, the_common_name_counts_only_without_dns_names) {
  tls_server_context server(input("required", {"relay2.example.com"}));
  EXPECT_FALSE(handshake(server, ca_->files().cert, {cn_only_}).refused);
  tls_server_context by_cn(input("required", {"ignored-cn.example.net"}));
  const auto out = handshake(by_cn, ca_->files().cert, {permitted_});
  ASSERT_TRUE(out.handshake_ok) << out.failure;
  EXPECT_TRUE(out.refused);
}

TEST_F(tls_certs, optional_client_auth_accepts_a_client_without_certificate) {
  tls_server_context server(input("optional"));
  const auto out = handshake(server, ca_->files().cert, {});
  EXPECT_TRUE(out.handshake_ok) << out.failure;
  EXPECT_FALSE(out.got_client_cert);
  EXPECT_FALSE(out.refused);
  // ... but not when permitted_peers names who may send.
  tls_server_context named(input("optional", {"*.example.com"}));
  const auto named_out = handshake(named, ca_->files().cert, {});
  ASSERT_TRUE(named_out.handshake_ok) << named_out.failure;
  EXPECT_TRUE(named_out.refused);
}

TEST_F(tls_certs, no_client_auth_asks_for_no_certificate) {
  tls_server_context server(input("none"));
  // The stranger's certificate would fail verification: it is never asked for.
  const auto out = handshake(server, ca_->files().cert, {stranger_});
  EXPECT_TRUE(out.handshake_ok) << out.failure;
  EXPECT_FALSE(out.got_client_cert);
}

TEST_F(tls_certs, tls_1_1_is_refused) {
  tls_server_context server(input("none"));
  const auto out = handshake(server, ca_->files().cert, {.cert = {}, .tls_1_1_only = true});
  EXPECT_FALSE(out.handshake_ok);
  EXPECT_NE(out.failure.find("unsupported protocol"), std::string::npos) << out.failure;
}

}  // namespace
}  // namespace tocsin::collector
