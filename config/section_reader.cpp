#include "config/section_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "config/warnings.hpp"
#include "config/yaml_reader.hpp"

namespace tocsin::config {

std::optional<std::string> read_secret_file(const std::filesystem::path& file,
                                            std::string& problem) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    problem = std::strerror(errno);
    return std::nullopt;
  }
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    problem = std::strerror(errno);
    return std::nullopt;
  }
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back())) != 0) {
    secret.pop_back();
  }
  if (secret.empty()) {
    problem = "the file is empty";
    return std::nullopt;
  }
  // A second line would end up inside a header or a URL: refuse it rather than guess.
  if (secret.find_first_of("\r\n") != std::string::npos) {
    problem = "the secret must be one line (the file has more)";
    return std::nullopt;
  }
  return secret;
}

source_location integration_where(const receiver_config& receiver) {
  if (!receiver.section) return receiver.where;
  const YAML::Mark& mark = receiver.section->entry.key_mark;
  return {receiver.section->file, mark.line + 1, mark.column + 1};
}

std::string integration_path(const receiver_config& receiver) {
  return receiver.section ? receiver.section->entry.path : receiver.integration;
}

struct section_reader::impl {
  std::shared_ptr<yaml_reader> reader;  // shared with nested sections: one list of problems
  yaml_entry at;
  std::vector<yaml_entry> entries;
  std::filesystem::path base_dir;  // relative file names resolve against it
  bool is_mapping = false;         // else it was reported, and nothing is missing from it

  impl(std::shared_ptr<yaml_reader> r, yaml_entry section, names keys, std::filesystem::path dir)
      : reader(std::move(r)), at(std::move(section)), base_dir(std::move(dir)) {
    auto read = reader->mapping(at, keys);
    is_mapping = read.has_value();
    if (read) entries = std::move(*read);
  }

  [[nodiscard]] const yaml_entry* find(std::string_view key) const {
    return tocsin::config::find(entries, key);
  }
};

section_reader::section_reader(const receiver_config& receiver, names keys) {
  const std::string file = receiver.section ? receiver.section->file : receiver.where.file;
  yaml_entry at;
  if (receiver.section) {
    at = receiver.section->entry;
  } else {
    at.name = receiver.integration;
    at.key_mark.line = receiver.where.line - 1;
    at.key_mark.column = receiver.where.column - 1;
  }
  impl_ = std::make_unique<impl>(std::make_shared<yaml_reader>(file), std::move(at), keys,
                                 std::filesystem::path(file).parent_path());
}

section_reader::section_reader(const receiver_section& section, names keys)
    : impl_(std::make_unique<impl>(std::make_shared<yaml_reader>(section.file), section.entry, keys,
                                   std::filesystem::path(section.file).parent_path())) {}

section_reader::section_reader(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
section_reader::~section_reader() = default;
section_reader::section_reader(section_reader&&) noexcept = default;
section_reader& section_reader::operator=(section_reader&&) noexcept = default;

bool section_reader::has(std::string_view key) const { return impl_->find(key) != nullptr; }

source_location section_reader::where(std::string_view key) const {
  const yaml_entry* e = impl_->find(key);
  return impl_->reader->where(e != nullptr ? e->mark() : impl_->at.mark());
}

void section_reader::require(names keys) {
  if (impl_->is_mapping) impl_->reader->require(impl_->at, impl_->entries, keys);
}

void section_reader::require_one_of(names keys) {
  if (!impl_->is_mapping) return;
  if (std::any_of(keys.begin(), keys.end(), [&](std::string_view k) { return has(k); })) return;
  std::string alternatives;
  for (std::string_view key : keys) {
    alternatives += (alternatives.empty() ? "" : " or ") + quote(key);
  }
  impl_->reader->error(impl_->at.mark(), "",
                       "missing required key " + alternatives + " in " + impl_->at.path);
}

std::optional<std::string> section_reader::choice(std::string_view key, names allowed) {
  const yaml_entry* e = impl_->find(key);
  return e == nullptr ? std::nullopt : impl_->reader->choice(*e, allowed);
}

std::optional<std::string> section_reader::text(std::string_view key) {
  const yaml_entry* e = impl_->find(key);
  return e == nullptr ? std::nullopt : impl_->reader->text(*e);
}

std::optional<std::string> section_reader::url(std::string_view key) {
  const yaml_entry* e = impl_->find(key);
  return e == nullptr ? std::nullopt : impl_->reader->url(*e);
}

std::optional<bool> section_reader::flag(std::string_view key) {
  const yaml_entry* e = impl_->find(key);
  return e == nullptr ? std::nullopt : impl_->reader->flag(*e);
}

std::optional<std::uint64_t> section_reader::count(std::string_view key, std::uint64_t min,
                                                   std::uint64_t max) {
  const yaml_entry* e = impl_->find(key);
  return e == nullptr ? std::nullopt : impl_->reader->count(*e, min, max);
}

std::optional<duration> section_reader::span(std::string_view key) {
  const yaml_entry* e = impl_->find(key);
  return e == nullptr ? std::nullopt : impl_->reader->span(*e);
}

std::optional<endpoint> section_reader::address(std::string_view key) {
  const yaml_entry* e = impl_->find(key);
  return e == nullptr ? std::nullopt : impl_->reader->address(*e);
}

std::optional<std::vector<std::string>> section_reader::text_list(std::string_view key) {
  const yaml_entry* e = impl_->find(key);
  return e == nullptr ? std::nullopt : impl_->reader->text_list(*e);
}

std::optional<std::map<std::string, std::string>> section_reader::text_map(std::string_view key) {
  const yaml_entry* e = impl_->find(key);
  return e == nullptr ? std::nullopt : impl_->reader->text_map(*e);
}

namespace {

// Nested at most this deep: a hostile config cannot exhaust the stack.
constexpr int max_tree_depth = 32;

std::optional<text_tree> read_tree(yaml_reader& reader, const YAML::Node& node,
                                   const YAML::Mark& mark, const std::string& path, int depth) {
  text_tree out;
  out.path = path;
  out.where = reader.where(mark);
  if (depth > max_tree_depth) {
    reader.error(mark, path, "nested deeper than " + std::to_string(max_tree_depth) + " levels");
    return std::nullopt;
  }
  if (node.IsNull()) {
    out.plain = true;
    out.text = "null";
    return out;
  }
  if (node.IsScalar()) {
    out.text = node.Scalar();
    out.plain = node.Tag() == "?";
    return out;
  }
  bool ok = true;
  if (node.IsSequence()) {
    out.type = text_tree::kind::list;
    for (std::size_t i = 0; i < node.size(); ++i) {
      auto item = read_tree(reader, node[i], node[i].Mark(), path + "[" + std::to_string(i) + "]",
                            depth + 1);
      if (item) out.items.push_back(std::move(*item));
      ok = ok && item.has_value();
    }
    return ok ? std::optional<text_tree>(std::move(out)) : std::nullopt;
  }
  out.type = text_tree::kind::map;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      reader.error(key.Mark(), path, "expected a string key, got " + describe(key));
      ok = false;
      continue;
    }
    const bool duplicate = std::any_of(out.items.begin(), out.items.end(),
                                       [&](const text_tree& e) { return e.name == key.Scalar(); });
    if (duplicate) {
      reader.error(key.Mark(), path, "duplicate key " + quote(key.Scalar()));
      ok = false;
      continue;
    }
    auto item = read_tree(reader, it->second, key.Mark(), path + "." + key.Scalar(), depth + 1);
    if (item) {
      item->name = key.Scalar();
      out.items.push_back(std::move(*item));
    }
    ok = ok && item.has_value();
  }
  return ok ? std::optional<text_tree>(std::move(out)) : std::nullopt;
}

}  // namespace

std::optional<text_tree> section_reader::tree(std::string_view key) {
  const yaml_entry* e = impl_->find(key);
  if (e == nullptr) return std::nullopt;
  return read_tree(*impl_->reader, e->value, e->mark(), e->path, 0);
}

std::optional<std::filesystem::path> section_reader::path(std::string_view key) {
  auto name = text(key);
  if (!name) return std::nullopt;
  std::filesystem::path p(*name);
  if (p.is_relative()) p = impl_->base_dir / p;
  return p;
}

std::optional<std::string> section_reader::secret_file(std::string_view key) {
  auto file = path(key);
  if (!file) return std::nullopt;
  std::string problem;
  auto secret = read_secret_file(*file, problem);
  if (!secret) error(key, "cannot read " + quote(file->string()) + ": " + problem);
  return secret;
}

section_reader section_reader::section(std::string_view key, names keys) {
  const yaml_entry* e = impl_->find(key);
  // An absent section reads as an empty one where its parent is, under the name it would have.
  const std::string& parent = impl_->at.path;
  yaml_entry at = e != nullptr ? *e
                               : yaml_entry{std::string(key), YAML::Node(), impl_->at.mark(),
                                            parent.empty() ? std::string(key)
                                                           : parent + "." + std::string(key)};
  return section_reader(
      std::make_unique<impl>(impl_->reader, std::move(at), keys, impl_->base_dir));
}

void section_reader::ignore(names keys, std::string_view why) {
  for (std::string_view key : keys) {
    const yaml_entry* e = impl_->find(key);
    if (e == nullptr) continue;
    warn(location_prefix(impl_->reader->where(e->key_mark)) + e->path +
         ": ignored: " + std::string(why));
  }
}

std::vector<section_reader> section_reader::section_list(std::string_view key, names keys) {
  std::vector<section_reader> out;
  const yaml_entry* e = impl_->find(key);
  if (e == nullptr) return out;
  auto items = impl_->reader->list(*e);
  if (!items) return out;
  for (yaml_entry& item : *items) {
    out.push_back(section_reader(
        std::make_unique<impl>(impl_->reader, std::move(item), keys, impl_->base_dir)));
  }
  return out;
}

void section_reader::error(std::string_view key, const std::string& message) {
  const yaml_entry* e = impl_->find(key);
  if (e != nullptr) {
    impl_->reader->error(e->mark(), e->path, message);
  } else {
    impl_->reader->error(impl_->at.mark(), impl_->at.path, message);
  }
}

void section_reader::check() const {
  if (impl_->reader->has_errors()) throw config_error(impl_->reader->errors());
}

}  // namespace tocsin::config
