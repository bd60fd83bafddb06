// Go's text/template execution (text/template/exec.go) over go_template::value, and the
// template_set that holds parsed templates.

#include "sinks/go_template.hpp"

#include <algorithm>
#include <utility>

#include "sinks/go_html.hpp"
#include "sinks/go_parse.hpp"

namespace tocsin::sinks::go_template {
namespace {

// ---------------------------------------------------------------------------------------------
// Executor
// ---------------------------------------------------------------------------------------------

struct break_signal {};
struct continue_signal {};

// Where execution is, for the error message.
struct exec_failure {
  std::string message;
};

class executor {
 public:
  using lookup_fn = std::function<const parsed_tree*(std::string_view)>;

  // `html`: null for plain text, else the HTML context the output is escaped for.
  executor(const function_map& functions, lookup_fn lookup, missing_key missing, limits lim,
           std::string& out, html_context* html)
      : functions_(functions),
        lookup_(std::move(lookup)),
        missing_(missing),
        limits_(lim),
        out_(out),
        html_(html) {}

  void run(const parsed_tree& tree, const value& data) {
    tree_ = &tree;
    vars_ = {{"$", data}};
    try {
      walk_list(data, tree.root);
    } catch (const exec_error& e) {
      std::string where = tree_->file.empty() ? tree_->name : tree_->file;
      throw exec_failure{where + ":" + std::to_string(line_) + ": template: executing \"" +
                         tree_->name + "\" at <" + at_ + ">: " + e.what()};
    }
  }

 private:
  void step() {
    if (++steps_ > limits_.max_steps) {
      throw exec_error("exceeded the limit of " + std::to_string(limits_.max_steps) +
                       " evaluation steps");
    }
  }

  void write(std::string_view s) {
    if (out_.size() + s.size() > limits_.max_output) {
      throw exec_error("output exceeds " + std::to_string(limits_.max_output) + " bytes");
    }
    out_ += s;
  }

  void walk_list(const value& dot, const std::vector<node>& list) {
    for (const node& n : list) walk(dot, n);
  }

  void walk(const value& dot, const node& n) {
    step();
    line_ = n.line;
    switch (n.what) {
      case node::kind::text:
        if (html_ != nullptr) {
          write(html_->template_text(n.text));
        } else {
          write(n.text);
        }
        return;
      case node::kind::action: {
        const value v = eval_pipeline(dot, *n.pipe);
        if (!n.pipe->decl.empty()) return;
        if (html_ != nullptr) {
          write(html_->escape(v, predefined_escaper(*n.pipe)));
        } else {
          write(v.is_valid() ? to_go_string(v) : "<no value>");
        }
        return;
      }
      case node::kind::if_action:
      case node::kind::with_action: {
        const std::size_t mark = vars_.size();
        const value v = eval_pipeline(dot, *n.pipe);
        if (is_true(v)) {
          walk_list(n.what == node::kind::with_action ? v : dot, n.list);
        } else if (n.has_else) {
          walk_list(dot, n.else_list);
        }
        vars_.resize(mark);
        return;
      }
      case node::kind::range_action:
        walk_range(dot, n);
        return;
      case node::kind::call:
        walk_template(dot, n);
        return;
      case node::kind::break_action:
        throw break_signal{};
      case node::kind::continue_action:
        throw continue_signal{};
    }
  }

  // "html" or "urlquery" when the pipeline ends with that function (html/template lets it stand
  // in for an escaper it would add), else "".
  static std::string_view predefined_escaper(const pipeline& p) {
    const operand& last = p.cmds.back().args[0];
    if (last.what != operand::kind::identifier) return {};
    const std::string& name = last.idents[0];
    return name == "html" || name == "urlquery" ? std::string_view(name) : std::string_view();
  }

  void walk_range(const value& dot, const node& n) {
    const std::size_t outer = vars_.size();
    const value v = eval_pipeline(dot, *n.pipe);
    const std::size_t mark = vars_.size();
    const std::size_t decls = n.pipe->decl.size();
    auto one = [&](const value& index, const value& elem) {
      if (decls > 0) {
        if (n.pipe->is_assign) {
          set_var(n.pipe->decl[decls == 1 ? 0 : 1], elem);
          if (decls > 1) set_var(n.pipe->decl[0], index);
        } else {
          vars_[mark - 1].second = elem;
          if (decls > 1) vars_[mark - 2].second = index;
        }
      }
      bool stop = false;
      try {
        walk_list(elem, n.list);
      } catch (const continue_signal&) {
      } catch (const break_signal&) {
        stop = true;
      }
      vars_.resize(mark);
      return !stop;
    };
    bool any = false;
    switch (v.type()) {
      case value::kind::list: {
        std::int64_t i = 0;
        for (const value& elem : v.as_list()) {
          any = true;
          if (!one(value(i++), elem)) break;
        }
        break;
      }
      case value::kind::map:
        for (const auto& [key, elem] : v.as_map()) {
          any = true;
          if (!one(value(key), elem)) break;
        }
        break;
      case value::kind::invalid:
      case value::kind::nil:
        break;  // a nil list or map: not an error
      default:
        throw exec_error("range can't iterate over " + to_go_string(v));
    }
    if (!any && n.has_else) walk_list(dot, n.else_list);
    vars_.resize(outer);
  }

  void walk_template(const value& dot, const node& n) {
    const parsed_tree* t = lookup_(n.text);
    if (t == nullptr) throw exec_error("template \"" + n.text + "\" not defined");
    if (depth_ >= limits_.max_depth) {
      throw exec_error("exceeded maximum template depth (" + std::to_string(limits_.max_depth) +
                       ")");
    }
    const value new_dot = n.pipe ? eval_pipeline(dot, *n.pipe) : value();
    auto saved_vars = std::exchange(vars_, {{"$", new_dot}});
    const parsed_tree* saved_tree = std::exchange(tree_, t);
    ++depth_;
    walk_list(new_dot, t->root);
    --depth_;
    tree_ = saved_tree;
    vars_ = std::move(saved_vars);
  }

  value eval_pipeline(const value& dot, const pipeline& p) {
    std::optional<value> final;
    for (const command& c : p.cmds) final = eval_command(dot, c, final);
    for (const std::string& d : p.decl) {
      if (p.is_assign) {
        set_var(d, *final);
      } else {
        vars_.emplace_back(d, *final);
      }
    }
    return *final;
  }

  void set_var(const std::string& name, const value& v) {
    for (std::size_t i = vars_.size(); i-- > 0;) {  // the innermost declaration wins
      if (vars_[i].first == name) {
        vars_[i].second = v;
        return;
      }
    }
    throw exec_error("undefined variable: " + name);
  }

  const value& var_value(const std::string& name) {
    for (std::size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].first == name) return vars_[i].second;
    }
    throw exec_error("undefined variable: " + name);
  }

  static void not_a_function(const std::vector<operand>& args, const std::optional<value>& final) {
    if (args.size() > 1 || final) {
      throw exec_error("can't give argument to non-function " + args[0].text);
    }
  }

  value eval_command(const value& dot, const command& c, const std::optional<value>& final) {
    step();
    at_ = c.text;
    line_ = c.line;
    const operand& first = c.args[0];
    switch (first.what) {
      case operand::kind::field:
        return eval_field_chain(dot, dot, first.text, first.idents, c.args, final);
      case operand::kind::chain: {
        const value receiver = eval_arg(dot, *first.term);
        return eval_field_chain(dot, receiver, first.text, first.idents, c.args, final);
      }
      case operand::kind::identifier:
        return eval_function(dot, first.idents[0], c.args, final);
      case operand::kind::pipe:
        not_a_function(c.args, final);
        return eval_pipeline(dot, *first.pipe);
      case operand::kind::variable: {
        const value& v = var_value(first.idents[0]);
        if (first.idents.size() == 1) {
          not_a_function(c.args, final);
          return v;
        }
        const std::vector<std::string> fields(first.idents.begin() + 1, first.idents.end());
        return eval_field_chain(dot, v, first.text, fields, c.args, final);
      }
      case operand::kind::dot:
        not_a_function(c.args, final);
        return dot;
      case operand::kind::literal:
        not_a_function(c.args, final);
        return first.literal;
      case operand::kind::nil:
        throw exec_error("nil is not a command");
    }
    return {};
  }

  value eval_arg(const value& dot, const operand& a) {
    switch (a.what) {
      case operand::kind::dot:
        return dot;
      case operand::kind::nil:
        return value::nil();
      case operand::kind::literal:
        return a.literal;
      case operand::kind::field:
        return eval_field_chain(dot, dot, a.text, a.idents, {a}, std::nullopt);
      case operand::kind::variable: {
        const value& v = var_value(a.idents[0]);
        if (a.idents.size() == 1) return v;
        const std::vector<std::string> fields(a.idents.begin() + 1, a.idents.end());
        return eval_field_chain(dot, v, a.text, fields, {a}, std::nullopt);
      }
      case operand::kind::pipe:
        return eval_pipeline(dot, *a.pipe);
      case operand::kind::identifier:
        return eval_function(dot, a.idents[0], {a}, std::nullopt);
      case operand::kind::chain: {
        const value receiver = eval_arg(dot, *a.term);
        return eval_field_chain(dot, receiver, a.text, a.idents, {a}, std::nullopt);
      }
    }
    return {};
  }

  value eval_field_chain(const value& dot, value receiver, const std::string& text,
                         const std::vector<std::string>& fields, const std::vector<operand>& args,
                         const std::optional<value>& final) {
    static const std::vector<operand> no_args(1);
    for (std::size_t i = 0; i + 1 < fields.size(); ++i) {
      receiver = eval_field(dot, fields[i], text, no_args, std::nullopt, receiver);
    }
    return eval_field(dot, fields.back(), text, args, final, receiver);
  }

  value eval_field(const value& dot, const std::string& name, const std::string& text,
                   const std::vector<operand>& args, const std::optional<value>& final,
                   const value& receiver) {
    if (!receiver.is_valid()) {
      if (missing_ == missing_key::error) {
        throw exec_error("nil data; no entry for key \"" + name + "\"");
      }
      return {};
    }
    if (const callable* m = find_method(receiver, name)) {
      std::vector<value> argv{receiver};
      for (std::size_t i = 1; i < args.size(); ++i) argv.push_back(eval_arg(dot, args[i]));
      if (final) argv.push_back(*final);
      return call(*m, name, argv, 1);
    }
    const bool has_args = args.size() > 1 || final.has_value();
    switch (receiver.type()) {
      case value::kind::record: {
        const value* f = receiver.field(name);
        if (f == nullptr) {
          throw exec_error("can't evaluate field " + name + " in type " + go_type_name(receiver));
        }
        if (has_args) throw exec_error(name + " has arguments but cannot be invoked as function");
        return *f;
      }
      case value::kind::map: {
        if (has_args) throw exec_error(name + " is not a method but has arguments");
        const auto& m = receiver.as_map();
        auto it = m.find(name);
        if (it != m.end()) return it->second;
        switch (missing_) {
          case missing_key::no_value:
            return {};
          case missing_key::zero:
            return receiver.map_missing();
          case missing_key::error:
            throw exec_error("map has no entry for key \"" + name + "\"");
        }
        return {};
      }
      case value::kind::nil:
        throw exec_error("nil pointer evaluating " + text);
      default:
        throw exec_error("can't evaluate field " + name + " in type " + go_type_name(receiver));
    }
  }

  static const callable* find_method(const value& receiver, const std::string& name);

  value eval_function(const value& dot, const std::string& name, const std::vector<operand>& args,
                      const std::optional<value>& final) {
    if (name == "and" || name == "or") {
      // Go 1.18+: evaluate left to right and stop at the first false (and) / true (or) value.
      const std::size_t n = args.size() - 1 + (final ? 1 : 0);
      if (n == 0) throw exec_error("wrong number of args for " + name + ": want at least 1 got 0");
      value v;
      for (std::size_t i = 1; i <= n; ++i) {
        v = i < args.size() ? eval_arg(dot, args[i]) : *final;
        if (is_true(v) != (name == "and")) return v;
      }
      return v;
    }
    auto it = functions_.find(name);
    if (it == functions_.end()) throw exec_error("\"" + name + "\" is not a defined function");
    std::vector<value> argv;
    for (std::size_t i = 1; i < args.size(); ++i) argv.push_back(eval_arg(dot, args[i]));
    if (final) argv.push_back(*final);
    return call(it->second, name, argv, 0);
  }

  static value call(const callable& f, const std::string& name, const std::vector<value>& argv,
                    std::size_t self) {
    const auto n = static_cast<int>(argv.size() - self);
    if (f.max_args < 0 ? n < f.min_args : (n < f.min_args || n > f.max_args)) {
      throw exec_error("wrong number of args for " + name + ": want " +
                       (f.max_args < 0 ? "at least " : "") + std::to_string(f.min_args) + " got " +
                       std::to_string(n));
    }
    try {
      return f.call(argv);
    } catch (const arg_type_error&) {
      throw;
    } catch (const exec_error& e) {
      throw exec_error("error calling " + name + ": " + e.what());
    } catch (const std::exception& e) {  // a function's own failure must not escape a render
      throw exec_error("error calling " + name + ": " + e.what());
    }
  }

  const function_map& functions_;
  lookup_fn lookup_;
  missing_key missing_;
  limits limits_;
  std::string& out_;
  html_context* html_;
  const parsed_tree* tree_ = nullptr;
  std::vector<std::pair<std::string, value>> vars_;
  int depth_ = 0;
  std::uint64_t steps_ = 0;
  int line_ = 0;
  std::string at_;
};

// Methods of time.Time and time.Duration; other types carry theirs in their type_info.
const type_info& time_type() {
  static const type_info t = [] {
    type_info info{"time.Time", {}};
    auto self = [](std::span<const value> a) -> const time_value& { return a[0].as_time(); };
    info.methods["String"] = {0, 0, [self](auto a) { return value(format_go_time(self(a))); }};
    info.methods["Format"] = {
        1, 1, [self](auto a) { return value(format_go_time(self(a), want_string(a[1]))); }};
    info.methods["UTC"] = {0, 0, [self](auto a) {
                             time_value t = self(a);
                             t.offset = std::chrono::seconds(0);
                             t.zone = "UTC";
                             return value(std::move(t));
                           }};
    info.methods["Unix"] = {
        0, 0, [self](auto a) {
          return value(static_cast<std::int64_t>(self(a).seconds.time_since_epoch().count()));
        }};
    info.methods["UnixMilli"] = {
        0, 0, [self](auto a) {
          return value(static_cast<std::int64_t>(self(a).seconds.time_since_epoch().count() * 1000 +
                                                 self(a).nanos / 1000000));
        }};
    info.methods["IsZero"] = {0, 0, [self](auto a) { return value(self(a).is_go_zero()); }};
    return info;
  }();
  return t;
}

const type_info& duration_type() {
  static const type_info t = [] {
    type_info info{"time.Duration", {}};
    info.methods["String"] = {0, 0,
                              [](auto a) { return value(format_go_duration(a[0].as_duration())); }};
    info.methods["Seconds"] = {
        0, 0, [](auto a) { return value(static_cast<double>(a[0].as_duration().count()) / 1e9); }};
    info.methods["Minutes"] = {
        0, 0, [](auto a) { return value(static_cast<double>(a[0].as_duration().count()) / 60e9); }};
    info.methods["Hours"] = {
        0, 0,
        [](auto a) { return value(static_cast<double>(a[0].as_duration().count()) / 3600e9); }};
    return info;
  }();
  return t;
}

const callable* executor::find_method(const value& receiver, const std::string& name) {
  const type_info* t = receiver.named_type();
  if (receiver.type() == value::kind::time) t = &time_type();
  if (receiver.type() == value::kind::duration) t = &duration_type();
  if (t == nullptr) return nullptr;
  auto it = t->methods.find(name);
  return it == t->methods.end() ? nullptr : &it->second;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Argument checks
// ---------------------------------------------------------------------------------------------

const std::string& want_string(const value& v) {
  if (v.type() == value::kind::string) return v.as_string();
  if (!v.is_valid()) throw arg_type_error("invalid value; expected string");
  throw arg_type_error("wrong type for value; expected string; got " + go_type_name(v));
}

std::int64_t want_int(const value& v) {
  if (v.type() == value::kind::integer) return v.as_int();
  if (!v.is_valid()) throw arg_type_error("invalid value; expected int");
  throw arg_type_error("wrong type for value; expected int; got " + go_type_name(v));
}

std::vector<std::string> want_strings(const value& v) {
  const bool string_list = v.type() == value::kind::list && v.named_type() != nullptr &&
                           std::all_of(v.as_list().begin(), v.as_list().end(), [](const value& e) {
                             return e.type() == value::kind::string;
                           });
  if (v.type() == value::kind::nil || v.type() == value::kind::invalid) return {};
  if (!string_list) {
    throw arg_type_error("wrong type for value; expected []string; got " + go_type_name(v));
  }
  std::vector<std::string> out;
  out.reserve(v.as_list().size());
  for (const value& e : v.as_list()) out.push_back(e.as_string());
  return out;
}

// ---------------------------------------------------------------------------------------------
// template_set
// ---------------------------------------------------------------------------------------------

template_set::template_set(function_map functions, missing_key missing, limits lim)
    : functions_(std::make_shared<const function_map>(std::move(functions))),
      missing_(missing),
      limits_(lim) {}

std::optional<std::string> template_set::parse(std::string_view name, std::string_view text,
                                               const source_location& where) {
  try {
    auto trees = parse_templates(
        text, where.line, std::string(name), where.file, [this](std::string_view f) {
          return f == "and" || f == "or" || functions_->find(f) != functions_->end();
        });
    for (auto& [tree_name, tree] : trees) {
      auto it = templates_.find(tree_name);
      // Go keeps an existing template rather than replace it with an empty one.
      if (it != templates_.end() && is_empty_tree(tree->root)) continue;
      templates_[tree_name] = std::move(tree);
    }
    return std::nullopt;
  } catch (const parse_failure& f) {
    const std::string file = where.file.empty() ? std::string(name) : where.file;
    return file + ":" + std::to_string(f.line) + ": template: " + f.message;
  }
}

bool template_set::defines(std::string_view name) const {
  return templates_.find(name) != templates_.end();
}

std::vector<std::string> template_set::names() const {
  std::vector<std::string> out;
  out.reserve(templates_.size());
  for (const auto& entry : templates_) out.push_back(entry.first);
  return out;
}

render_result template_set::execute(std::string_view name, const value& data, escaping mode) const {
  render_result result;
  auto it = templates_.find(name);
  if (it == templates_.end()) {
    result.error = "template: no template \"" + std::string(name) + "\" associated with template";
    return result;
  }
  html_context html;
  try {
    executor ex(
        *functions_,
        [this](std::string_view n) -> const parsed_tree* {
          auto t = templates_.find(n);
          return t == templates_.end() ? nullptr : t->second.get();
        },
        missing_, limits_, result.text, mode == escaping::html ? &html : nullptr);
    ex.run(*it->second, data);
  } catch (const exec_failure& f) {
    result.error = f.message;
  } catch (const std::exception& e) {  // e.g. std::bad_alloc: a render never throws
    result.error = std::string("template: ") + e.what();
  } catch (...) {
    result.error = "template: internal error";
  }
  if (!result.ok()) result.text.clear();
  return result;
}

render_result template_set::execute_text(std::string_view text, const value& data,
                                         const source_location& where, escaping mode) const {
  if (text.empty()) return {};
  template_set copy = *this;
  if (auto error = copy.parse("", text, where)) return {{}, *error};
  return copy.execute("", data, mode);
}

}  // namespace tocsin::sinks::go_template
