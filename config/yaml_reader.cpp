#include "config/yaml_reader.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <sstream>
#include <utility>

#include "config/values.hpp"

namespace tocsin::config {
namespace {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), so `lsiten`
// is one edit away from `listen`.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string child_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string in_path(const std::string& path) { return path.empty() ? "" : " in " + path; }

// Records where each document starts and ignores the rest. yaml-cpp's LoadAll() loops forever
// on a stray flow token such as a ',' at the start of a line (every call returns another empty
// document without consuming it), so documents are counted here with a cap instead, and a
// document that starts where the previous one did is reported as that stray token.
class document_starts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::string join(names parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::string quote(std::string_view text) {
  constexpr std::size_t max_quoted = 60;
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < max_quoted; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max_quoted) out += "...";
  return out + "'";
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return quote(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

// Two edits are allowed, but only one for words shorter than six letters: otherwise `b` would
// suggest `bus`.
std::string suggestion(std::string_view word, names candidates) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (std::string_view candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    const std::size_t shorter = std::min(word.size(), candidate.size());
    const std::size_t allowed = std::clamp<std::size_t>(shorter / 3, 1, 2);
    if (distance <= allowed && distance < best_distance && distance < candidate.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best.empty() ? std::string() : "; did you mean " + quote(best) + "?";
}

bool valid_label_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

const yaml_entry* find(const std::vector<yaml_entry>& entries, std::string_view name) {
  for (const yaml_entry& e : entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

YAML::Node parse_document(const std::string& yaml, const std::string& file, std::string_view what) {
  auto at = [&](const YAML::Mark& mark) {
    if (mark.line < 0) return file + ": ";
    return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
           ": ";
  };
  YAML::Node root;
  try {
    // One pass counts documents (at most three), a second builds the first one.
    std::istringstream stream(yaml);
    YAML::Parser parser(stream);
    document_starts starts;
    while (starts.marks.size() < 3 && parser.HandleNextDocument(starts)) {
    }
    const auto& marks = starts.marks;
    for (std::size_t i = 1; i < marks.size(); ++i) {
      if (marks[i].pos == marks[i - 1].pos) {
        const auto pos = static_cast<std::size_t>(marks[i].pos);
        throw config_error({at(marks[i]) + "unexpected " +
                            quote(pos < yaml.size() ? yaml.substr(pos, 1) : std::string())});
      }
    }
    if (marks.size() > 1) {
      throw config_error(
          {at(marks[1]) + std::string(what) + " holds one YAML document, found a second"});
    }
    if (!marks.empty()) root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw config_error({at(e.mark) + e.msg});
  } catch (const YAML::Exception& e) {
    throw config_error({file + ": " + e.msg});
  }
  return root;
}

std::string read_text_file(const std::filesystem::path& file) {
  const std::string name = file.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw config_error({name + ": cannot read: " + std::strerror(errno)});
  std::string text;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      throw config_error({name + ": cannot read: " + std::strerror(saved)});
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

std::vector<std::string> yaml_reader::errors() const {
  std::vector<problem> sorted = problems_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const problem& a, const problem& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  std::vector<std::string> out;
  for (const problem& p : sorted) {
    if (p.line > 0) {
      out.push_back(file_ + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " +
                    p.text);
    } else {
      out.push_back(file_ + ": " + p.text);
    }
  }
  return out;
}

void yaml_reader::error(const YAML::Mark& mark, const std::string& path,
                        const std::string& message) {
  problem p;
  if (mark.line >= 0) {
    p.line = mark.line + 1;
    p.column = mark.column + 1;
  }
  p.text = path.empty() ? message : path + ": " + message;
  problems_.push_back(std::move(p));
}

std::optional<std::vector<yaml_entry>> yaml_reader::mapping(const yaml_entry& at, names known,
                                                            bool null_is_empty) {
  if (at.value.IsNull() && null_is_empty) return std::vector<yaml_entry>{};
  if (!at.value.IsMap()) {
    error(at.mark(), at.path, "expected a mapping, got " + describe(at.value));
    return std::nullopt;
  }
  std::vector<yaml_entry> out;
  std::set<std::string> seen;
  for (auto it = at.value.begin(); it != at.value.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(key.Mark(), at.path, "expected a string key, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    if (!seen.insert(name).second) {
      error(key.Mark(), "", "duplicate key " + quote(name) + in_path(at.path));
      continue;
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      if (name == "<<") {
        error(key.Mark(), at.path, "YAML merge keys ('<<') are not supported");
      } else {
        error(key.Mark(), "",
              "unknown key " + quote(name) + in_path(at.path) + suggestion(name, known));
      }
      continue;
    }
    out.push_back(yaml_entry{name, it->second, key.Mark(), child_path(at.path, name)});
  }
  return out;
}

std::optional<std::vector<yaml_entry>> yaml_reader::list(const yaml_entry& at) {
  if (at.value.IsNull()) return std::vector<yaml_entry>{};
  if (!at.value.IsSequence()) {
    error(at.mark(), at.path, "expected a list, got " + describe(at.value));
    return std::nullopt;
  }
  std::vector<yaml_entry> out;
  std::size_t index = 0;
  for (const YAML::Node& item : at.value) {
    out.push_back(yaml_entry{"", item, item.IsNull() ? at.mark() : item.Mark(),
                             at.path + "[" + std::to_string(index++) + "]"});
  }
  return out;
}

void yaml_reader::require(const yaml_entry& at, const std::vector<yaml_entry>& entries,
                          names required, const std::string& why) {
  for (std::string_view name : required) {
    if (find(entries, name) == nullptr) {
      error(at.mark(), "", "missing required key " + quote(name) + in_path(at.path) + why);
    }
  }
}

std::optional<std::string> yaml_reader::text(const yaml_entry& e, bool allow_empty) {
  if (!e.value.IsScalar()) {
    error(e.mark(), e.path, "expected a string, got " + describe(e.value));
    return std::nullopt;
  }
  if (!allow_empty && e.value.Scalar().empty()) {
    error(e.mark(), e.path, "must not be empty");
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<std::string> yaml_reader::choice(const yaml_entry& e, names allowed) {
  // "" among the choices allows an empty value (Telegram's parse_mode: "" is "no markup").
  const bool empty_allowed = std::find(allowed.begin(), allowed.end(), "") != allowed.end();
  auto value = text(e, empty_allowed);
  if (!value) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *value) == allowed.end()) {
    std::vector<std::string> listed(allowed.begin(), allowed.end());
    std::replace(listed.begin(), listed.end(), std::string(), std::string("\"\""));
    error(e.mark(), e.path,
          "invalid value " + quote(*value) + "; expected one of " + join(listed, ", ") +
              suggestion(*value, allowed));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> yaml_reader::flag(const yaml_entry& e) {
  bool value = false;
  if (!e.value.IsScalar() || !YAML::convert<bool>::decode(e.value, value)) {
    error(e.mark(), e.path, "expected true or false, got " + describe(e.value));
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint64_t> yaml_reader::count(const yaml_entry& e, std::uint64_t min,
                                                std::uint64_t max) {
  const std::string expected =
      min > 0 ? "expected a positive integer" : "expected a non-negative integer";
  if (!e.value.IsScalar() || e.value.Scalar().empty()) {
    error(e.mark(), e.path, expected + ", got " + describe(e.value));
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (char c : e.value.Scalar()) {
    if (c < '0' || c > '9') {
      error(e.mark(), e.path, expected + ", got " + describe(e.value));
      return std::nullopt;
    }
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (value > max) break;
  }
  if (value < min) {
    error(e.mark(), e.path,
          min > 1 ? quote(e.value.Scalar()) + " is too small (at least " + std::to_string(min) + ")"
                  : expected + ", got " + describe(e.value));
    return std::nullopt;
  }
  if (value > max) {
    error(e.mark(), e.path,
          quote(e.value.Scalar()) + " is too large (at most " + std::to_string(max) + ")");
    return std::nullopt;
  }
  return value;
}

std::optional<duration> yaml_reader::span(const yaml_entry& e) {
  auto value = text(e);
  if (!value) return std::nullopt;
  std::string problem;
  auto parsed = detail::parse_duration(*value, problem);
  if (!parsed) error(e.mark(), e.path, "invalid duration " + quote(*value) + ": " + problem);
  return parsed;
}

std::optional<endpoint> yaml_reader::address(const yaml_entry& e) {
  auto value = text(e);
  if (!value) return std::nullopt;
  std::string problem;
  auto parsed = detail::parse_endpoint(*value, problem);
  if (!parsed) error(e.mark(), e.path, "invalid endpoint " + quote(*value) + ": " + problem);
  return parsed;
}

std::optional<std::string> yaml_reader::url(const yaml_entry& e) {
  auto value = text(e);
  if (!value) return std::nullopt;
  const bool http = value->starts_with("http://") && value->size() > 7;
  const bool https = value->starts_with("https://") && value->size() > 8;
  if (!http && !https) {
    // Webhook URLs carry their secret in the path: show the scheme and host only.
    const std::size_t scheme = value->find("://");
    const std::size_t path = value->find('/', scheme == std::string::npos ? 0 : scheme + 3);
    const std::string shown = path == std::string::npos ? *value : value->substr(0, path) + "/…";
    error(e.mark(), e.path, "invalid URL " + quote(shown) + ": expected http:// or https://");
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::string>> yaml_reader::text_list(const yaml_entry& e) {
  auto items = list(e);
  if (!items) return std::nullopt;
  std::vector<std::string> out;
  bool ok = true;
  for (const yaml_entry& item : *items) {
    auto value = text(item);
    if (value) {
      out.push_back(std::move(*value));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, std::string>> yaml_reader::text_map(const yaml_entry& e) {
  if (e.value.IsNull()) return std::map<std::string, std::string>{};
  if (!e.value.IsMap()) {
    error(e.mark(), e.path, "expected a mapping, got " + describe(e.value));
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  bool ok = true;
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar() || key.Scalar().empty()) {
      error(key.Mark(), e.path, "expected a string key, got " + describe(key));
      ok = false;
      continue;
    }
    const yaml_entry value{key.Scalar(), it->second, key.Mark(), child_path(e.path, key.Scalar())};
    auto scalar = text(value, /*allow_empty=*/true);
    if (!scalar) {
      ok = false;
    } else if (!out.emplace(key.Scalar(), *scalar).second) {
      error(key.Mark(), "", "duplicate key " + quote(key.Scalar()) + in_path(e.path));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace tocsin::config
