#pragma once
// The parse tree of Go's text/template (text/template/parse) and its parser: go_template.cpp
// runs the trees; nothing outside the engine uses this header.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sinks/go_template.hpp"

namespace tocsin::sinks::go_template {

struct pipeline;

// One operand of a command.
struct operand {
  enum class kind { field, variable, identifier, dot, nil, literal, pipe, chain };
  kind what = kind::dot;
  int line = 0;
  std::vector<std::string> idents;  // field: {"A","B"}; variable: {"$x","A"}; identifier: {"f"}
                                    // chain: the fields after the term
  value literal;
  std::shared_ptr<const pipeline> pipe;  // kind::pipe
  std::shared_ptr<const operand> term;   // kind::chain: what the fields apply to
  std::string text;                      // source text, for error messages
};

struct command {
  std::vector<operand> args;
  int line = 0;
  std::string text;
};

struct pipeline {
  int line = 0;
  bool is_assign = false;         // `$x = …` rather than `$x := …`
  std::vector<std::string> decl;  // declared or assigned variables
  std::vector<command> cmds;
};

struct node {
  enum class kind {
    text,
    action,
    if_action,
    range_action,
    with_action,
    call,
    break_action,
    continue_action
  };
  kind what = kind::text;
  int line = 0;
  std::string text;  // text; the called template's name
  std::shared_ptr<const pipeline> pipe;
  std::vector<node> list, else_list;
  bool has_else = false;
};

struct parsed_tree {
  std::string name;
  std::string file;
  std::vector<node> root;
};

// A parse error at `line`; template_set::parse makes it "FILE:LINE: template: MESSAGE".
struct parse_failure {
  int line;
  std::string message;
};

// The templates `text` defines: its top-level text as `name`, plus each {{define}} and
// {{block}}. `first_line` is the line the text starts on; `has_function` says which function
// names exist (Go rejects an unknown one when parsing). Throws parse_failure.
std::map<std::string, std::shared_ptr<parsed_tree>> parse_templates(
    std::string_view text, int first_line, const std::string& name, const std::string& file,
    const std::function<bool(std::string_view)>& has_function);

// Whether a template is only whitespace: Go does not let one replace a template of that name.
bool is_empty_tree(const std::vector<node>& list);

}  // namespace tocsin::sinks::go_template
