#pragma once
// TEMP STUB (interface of the sketch branch)
#include <cstdint>
#include <string_view>
#include <utility>
namespace tocsin::rules {
std::uint64_t value_hash(std::string_view value);
class sliding_distinct {
 public:
  static constexpr std::size_t exact_limit = 1000;
  static constexpr int precision = 10;
  static std::pair<std::uint32_t, std::uint8_t> register_of(std::uint64_t hash);
  void add(std::uint64_t hash, std::int64_t second);
  void add_register(std::uint32_t reg, std::uint8_t rank, std::int64_t second);
  [[nodiscard]] std::uint64_t count(std::int64_t now, std::int64_t window) const;
  void expire(std::int64_t now, std::int64_t window);
  [[nodiscard]] bool empty() const;
  [[nodiscard]] bool exact() const;
};
}
