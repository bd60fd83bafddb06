#include <gtest/gtest.h>

#include <fstream>

#include "config/section_reader.hpp"
#include "tests/support/temp_dir.hpp"

namespace tocsin::config {
namespace {

std::optional<std::string> read_file_holding(const std::string& content, std::string& problem) {
  test::temp_dir dir;
  const auto file = dir.path() / "secret";
  std::ofstream(file, std::ios::binary) << content;
  return read_secret_file(file, problem);
}

TEST(read_secret_file, takes_the_line_without_its_trailing_whitespace) {
  std::string problem;
  EXPECT_EQ(read_file_holding("s3cret\n", problem), "s3cret");
  EXPECT_EQ(read_file_holding("s3cret \r\n", problem), "s3cret");
  EXPECT_EQ(read_file_holding("pass word", problem), "pass word");
}

TEST(read_secret_file, refuses_an_empty_file_and_a_second_line) {
  std::string problem;
  EXPECT_EQ(read_file_holding(" \n", problem), std::nullopt);
  EXPECT_EQ(problem, "the file is empty");
  // Once taken as its first line; now refused, so nothing after it reaches a header or a URL.
  EXPECT_EQ(read_file_holding("token\n# rotated 2026-11\n", problem), std::nullopt);
  EXPECT_EQ(problem, "the secret must be one line (the file has more)");
}

TEST(read_secret_file, says_why_a_file_cannot_be_read) {
  std::string problem;
  EXPECT_EQ(read_secret_file("/nonexistent/secret", problem), std::nullopt);
  EXPECT_EQ(problem, "No such file or directory");
}

}  // namespace
}  // namespace tocsin::config
