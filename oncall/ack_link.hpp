#pragma once
// Page ids and the signed acknowledgement links pages carry (DESIGN.md, "On-call"): a link
// `GET /ack/{page_id}?sig=…` acks only the incident it was sent for, so one left in an old email
// cannot acknowledge the next incident of the same group.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace tocsin::oncall {

// 16 hex digits from the group key (FNV-1a 64): the same on every router and across restarts.
std::string page_id(std::string_view group_key);

// HMAC-SHA256 over the page id and the incident (when its escalation started), with a key every
// router shares (`oncall.signing_key_file`).
class ack_signer {
 public:
  // The key in `file` (config::read_secret_file's rules); throws std::runtime_error when it
  // cannot be read or is shorter than 16 bytes.
  static ack_signer from_file(const std::filesystem::path& file);
  // A random key: links work until this process ends.
  static ack_signer random();
  explicit ack_signer(std::string key) : key_(std::move(key)) {}

  // 32 hex digits.
  [[nodiscard]] std::string sign(std::string_view page_id, std::int64_t incident_ms) const;
  // In time independent of where a wrong signature differs.
  [[nodiscard]] bool verify(std::string_view page_id, std::int64_t incident_ms,
                            std::string_view signature) const;

 private:
  std::string key_;
};

}  // namespace tocsin::oncall
