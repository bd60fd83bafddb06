#include "oncall/ack_link.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "config/section_reader.hpp"

namespace tocsin::oncall {
namespace {

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string page_id(std::string_view group_key) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : group_key) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  std::array<unsigned char, 8> bytes{};
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(h >> (56 - 8 * i));
  return hex(bytes.data(), bytes.size());
}

ack_signer ack_signer::from_file(const std::filesystem::path& file) {
  std::string problem;
  auto key = config::read_secret_file(file, problem);
  if (!key) throw std::runtime_error("oncall.signing_key_file " + file.string() + ": " + problem);
  if (key->size() < 16) {
    throw std::runtime_error("oncall.signing_key_file " + file.string() +
                             ": the key is shorter than 16 bytes (try: openssl rand -hex 32)");
  }
  return ack_signer(std::move(*key));
}

ack_signer ack_signer::random() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("cannot make a random ack-link key");
  }
  return ack_signer(hex(bytes.data(), bytes.size()));
}

std::string ack_signer::sign(std::string_view page_id, std::int64_t incident_ms) const {
  const std::string message = std::string(page_id) + ":" + std::to_string(incident_ms);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &length);
  return hex(mac.data(), 16);
}

bool ack_signer::verify(std::string_view page_id, std::int64_t incident_ms,
                        std::string_view signature) const {
  const std::string expected = sign(page_id, incident_ms);
  return signature.size() == expected.size() &&
         CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

}  // namespace tocsin::oncall
