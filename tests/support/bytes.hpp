#pragma once
// Byte strings for decoder tests: literals that may hold NULs, and compressed payloads.

#include <cstddef>
#include <string>
#include <string_view>

namespace tocsin::test {

// The whole literal, NULs included, without its terminating NUL: bytes("a\0b") has size 3.
template <std::size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// `in` compressed by zlib's deflate at level 9; `window_bits` as for deflateInit2: 9..15 a zlib
// stream, +16 gzip, negative raw deflate. Throws std::runtime_error when zlib fails.
std::string deflate_with(std::string_view in, int window_bits);

}  // namespace tocsin::test
