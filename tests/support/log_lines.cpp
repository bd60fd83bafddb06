#include "tests/support/log_lines.hpp"

#include <nlohmann/json.hpp>

#include "tests/support/wait.hpp"

namespace tocsin::test {

std::string syslog_line(std::string_view app, std::string_view message,
                        const syslog_header& header) {
  std::string line = "<" + std::to_string(header.pri) + ">1 ";
  line += header.timestamp.empty() ? now_rfc3339() : header.timestamp;
  line += ' ';
  line += header.host;
  line += ' ';
  line += app;
  line += " - - - ";
  line += message;
  line += '\n';
  return line;
}

std::string gelf_json(std::string_view message, std::string_view app, std::string_view host) {
  nlohmann::json j = {{"version", "1.1"}, {"host", host}, {"short_message", message}};
  if (!app.empty()) j["_app"] = app;
  return j.dump();
}

std::string gelf_chunk(std::uint64_t id, int seq, int count, std::string_view data) {
  std::string chunk = "\x1e\x0f";
  for (int shift = 56; shift >= 0; shift -= 8) chunk += static_cast<char>((id >> shift) & 0xff);
  chunk += static_cast<char>(seq);
  chunk += static_cast<char>(count);
  chunk.append(data);
  return chunk;
}

}  // namespace tocsin::test
