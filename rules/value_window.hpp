#pragma once
// TEMP STUB
#include <cstdint>
#include <optional>
#include <limits>
#include <vector>
#include "rules/rule.hpp"
namespace tocsin::rules {
struct value_summary {
  std::uint64_t count = 0;
  double sum = 0;
  double min = std::numeric_limits<double>::infinity(), max = -std::numeric_limits<double>::infinity();
  std::vector<std::pair<std::int32_t, std::uint64_t>> bins;
  void add(double v);
  void merge(const value_summary& other);
};
class sliding_values {
 public:
  void add(std::int64_t second, double v);
  void add(std::int64_t second, const value_summary& s);
  void expire(std::int64_t now, std::int64_t window);
  [[nodiscard]] std::uint64_t count() const;
  [[nodiscard]] std::optional<double> evaluate(aggregate_function f, double q = 0) const;
  [[nodiscard]] bool empty() const;
};
}
