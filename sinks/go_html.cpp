// Contextual HTML escaping after Go's html/template (transition.go, escape.go, html.go, url.go,
// js.go, css.go), for the contexts notification emails use.

#include "sinks/go_html.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace tocsin::sinks::go_template {
namespace {

constexpr std::string_view failsafe = "ZgotmplZ";  // Go's marker for a value refused here

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == prefix;
}

// htmlReplacementTable (`normalize`: htmlNormReplacementTable, which keeps '&').
std::string html_escape(std::string_view s, bool normalize = false) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '\0':
        out += "\xEF\xBF\xBD";
        break;
      case '"':
        out += "&#34;";
        break;
      case '&':
        out += normalize ? "&" : "&amp;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '+':
        out += "&#43;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// htmlNospaceReplacementTable: for unquoted attribute values.
std::string html_nospace_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '\0':
        out += "&#xfffd;";
        break;
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\v':
        out += "&#11;";
        break;
      case '\f':
        out += "&#12;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case ' ':
        out += "&#32;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '+':
        out += "&#43;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '=':
        out += "&#61;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '`':
        out += "&#96;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// What safe HTML keeps in an attribute: its text without tags.
std::string strip_tags(std::string_view s) {
  std::string out;
  bool in_tag = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!in_tag && s[i] == '<' && i + 1 < s.size() && (is_alpha(s[i + 1]) || s[i + 1] == '/')) {
      in_tag = true;
    } else if (in_tag && s[i] == '>') {
      in_tag = false;
    } else if (!in_tag) {
      out += s[i];
    }
  }
  return out;
}

// urlFilter: only http, https and mailto (or no scheme) pass.
std::string url_filter(std::string s) {
  const auto colon = s.find(':');
  if (colon != std::string::npos && s.substr(0, colon).find('/') == std::string::npos) {
    const std::string scheme = lower(s.substr(0, colon));
    if (scheme != "http" && scheme != "https" && scheme != "mailto") {
      return "#" + std::string(failsafe);  // a URL still, one that goes nowhere
    }
  }
  return s;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// processURLOnto: `normalize` keeps reserved characters and valid %-escapes (urlNormalizer);
// otherwise everything but unreserved characters is escaped (urlEscaper).
std::string url_process(std::string_view s, bool normalize) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    bool keep = false;
    switch (c) {
      case '!':
      case '#':
      case '$':
      case '&':
      case '*':
      case '+':
      case ',':
      case '/':
      case ':':
      case ';':
      case '=':
      case '?':
      case '@':
      case '[':
      case ']':
        keep = normalize;
        break;
      case '-':
      case '.':
      case '_':
      case '~':
        keep = true;
        break;
      case '%':
        keep = normalize && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2]);
        break;
      default:
        keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }
    if (keep) {
      out += c;
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "%%%02x", static_cast<unsigned char>(c));
      out += b;
    }
  }
  return out;
}

void append_u_escape(std::string& out, unsigned c) {
  char b[8];
  std::snprintf(b, sizeof b, "\\u%04x", c);
  out += b;
}

// jsStrReplacementTable: inside a JavaScript string literal.
std::string js_string_escape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      case '/':
        out += "\\/";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '"':
      case '`':
      case '&':
      case '\'':
      case '+':
      case '<':
      case '>':
        append_u_escape(out, c);
        break;
      default:
        if (c < 0x20) {
          append_u_escape(out, c);
        } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
          out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

// encoding/json's string quoting (HTML-safe), as jsValEscaper uses it.
std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':
      case '>':
      case '&':
        append_u_escape(out, c);
        break;
      default:
        if (c < 0x20) {
          append_u_escape(out, c);
        } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
          out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string json_value(const value& v) {
  switch (v.type()) {
    case value::kind::invalid:
    case value::kind::nil:
      return "null";
    case value::kind::boolean:
    case value::kind::integer:
    case value::kind::floating:
      return to_go_string(v);
    case value::kind::list: {
      std::string out = "[";
      for (const value& e : v.as_list()) out += (out.size() > 1 ? "," : "") + json_value(e);
      return out + "]";
    }
    case value::kind::map: {
      std::string out = "{";
      for (const auto& [k, e] : v.as_map()) {
        out += (out.size() > 1 ? "," : "") + json_quote(k) + ":" + json_value(e);
      }
      return out + "}";
    }
    default:
      return json_quote(v.type() == value::kind::string ? v.as_string() : to_go_string(v));
  }
}

// jsValEscaper: the value as a JavaScript expression, padded so it cannot run into a keyword.
std::string js_value_escape(const value& v) {
  std::string json = json_value(v);
  const auto ident = [](char c) {
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '$';
  };
  if (!json.empty() && (ident(json.front()) || ident(json.back()))) return " " + json + " ";
  return json;
}

// cssValueFilter: values that cannot leave a CSS value, else the failsafe.
std::string css_value_filter(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    switch (s[i]) {
      case '\0':
      case '"':
      case '\'':
      case '(':
      case ')':
      case '/':
      case ';':
      case '@':
      case '[':
      case '\\':
      case ']':
      case '`':
      case '{':
      case '}':
      case '<':
      case '>':
        return std::string(failsafe);
      case '-':
        if (i != 0 && s[i - 1] == '-') return std::string(failsafe);
        break;
      default:
        break;
    }
  }
  const std::string id = lower(s);
  if (id.find("expression") != std::string::npos || id.find("mozbinding") != std::string::npos) {
    return std::string(failsafe);
  }
  return s;
}

// htmlNameFilter: an attribute name written by an action.
std::string html_name_filter(const std::string& s) {
  std::string name = lower(s);
  if (name.empty() || name.starts_with("on") || name == "style" || name == "href" ||
      name == "src") {
    return std::string(failsafe);
  }
  for (const char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return std::string(failsafe);
  }
  return name;
}

// Which attributes hold URLs, scripts or styles (html/template's attrTypeMap, in short).
bool is_url_attr(const std::string& name) {
  static const std::vector<std::string_view> urls = {
      "action", "archive",    "background", "cite",   "classid",  "codebase",
      "data",   "formaction", "href",       "icon",   "longdesc", "manifest",
      "poster", "profile",    "src",        "usemap", "xmlns"};
  if (std::find(urls.begin(), urls.end(), name) != urls.end()) return true;
  return name.find("src") != std::string::npos || name.find("uri") != std::string::npos ||
         name.find("url") != std::string::npos;
}

}  // namespace

std::string html_context::template_text(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) i += advance(text.substr(i), out);
  return out;
}

std::size_t html_context::advance(std::string_view s, std::string& out) {
  switch (state_) {
    case state::text:
    case state::rcdata: {
      // Up to the next tag (or, in <title>/<textarea>, its end tag); a '<' starting nothing is
      // written "&lt;".
      for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '<') {
          out += s[i];
          continue;
        }
        const std::string_view rest = s.substr(i);
        if (state_ == state::rcdata) {
          const std::string_view end = element_ == element::title ? "</title" : "</textarea";
          if (starts_with_ci(rest, end)) {
            state_ = state::text;
            element_ = element::none;
            return i;
          }
          out += "&lt;";
          continue;
        }
        if (rest.starts_with("<!--")) {
          state_ = state::comment;
          return i + 4;
        }
        if (starts_with_ci(rest, "<!doctype")) {
          out += '<';
          continue;
        }
        const bool end_tag = rest.size() > 1 && rest[1] == '/';
        const std::size_t name_at = end_tag ? 2 : 1;
        if (name_at < rest.size() && is_alpha(rest[name_at])) {
          std::size_t j = name_at;
          while (j < rest.size() && (is_alpha(rest[j]) || (rest[j] >= '0' && rest[j] <= '9') ||
                                     rest[j] == ':' || rest[j] == '-')) {
            ++j;
          }
          const std::string name = lower(rest.substr(name_at, j - name_at));
          element_ = element::none;
          if (!end_tag) {
            if (name == "script") element_ = element::script;
            if (name == "style") element_ = element::style;
            if (name == "textarea") element_ = element::textarea;
            if (name == "title") element_ = element::title;
          }
          out += rest.substr(0, j);
          state_ = state::tag;
          return i + j;
        }
        out += "&lt;";
      }
      return s.size();
    }
    case state::comment: {  // dropped from the output
      const auto end = s.find("-->");
      if (end == std::string_view::npos) return s.size();
      state_ = state::text;
      return end + 3;
    }
    case state::tag: {
      std::size_t i = 0;
      while (i < s.size() && is_space(s[i])) out += s[i++];
      if (i == s.size()) return i;
      if (s[i] == '>') {
        out += '>';
        switch (element_) {
          case element::script:
            state_ = state::js;
            js_quote_ = 0;
            break;
          case element::style:
            state_ = state::css;
            break;
          case element::textarea:
          case element::title:
            state_ = state::rcdata;
            break;
          case element::none:
            state_ = state::text;
            break;
        }
        delim_ = delim::none;
        return i + 1;
      }
      std::size_t j = i;
      while (j < s.size() && !is_space(s[j]) && s[j] != '=' && s[j] != '>') ++j;
      const std::string name = lower(s.substr(i, j - i));
      attr_ = attr_kind::none;
      if (name.starts_with("on")) attr_ = attr_kind::js;
      if (name == "style") attr_ = attr_kind::css;
      if (is_url_attr(name.starts_with("data-") ? name.substr(5) : name)) attr_ = attr_kind::url;
      out += s.substr(i, j - i);
      state_ = j == s.size() ? state::attr_name : state::after_name;
      return j;
    }
    case state::attr_name: {
      std::size_t j = 0;
      while (j < s.size() && !is_space(s[j]) && s[j] != '=' && s[j] != '>') ++j;
      out += s.substr(0, j);
      if (j < s.size()) state_ = state::after_name;
      return j;
    }
    case state::after_name: {
      std::size_t i = 0;
      while (i < s.size() && is_space(s[i])) out += s[i++];
      if (i == s.size()) return i;
      if (s[i] != '=') {
        state_ = state::tag;  // an attribute without a value
        return i;
      }
      out += '=';
      state_ = state::before_value;
      return i + 1;
    }
    case state::before_value: {
      std::size_t i = 0;
      while (i < s.size() && is_space(s[i])) out += s[i++];
      if (i == s.size()) return i;
      delim_ = delim::space_or_tag_end;
      if (s[i] == '"' || s[i] == '\'') {
        delim_ = s[i] == '"' ? delim::double_quote : delim::single_quote;
        out += s[i++];
      }
      state_ =
          attr_ == attr_kind::url
              ? state::url
              : (attr_ == attr_kind::js ? state::js
                                        : (attr_ == attr_kind::css ? state::css : state::attr));
      url_part_ = url_part::none;
      js_quote_ = 0;
      return i;
    }
    case state::attr:
    case state::url:
    case state::js:
    case state::css: {
      // The part of the attribute value (or element content) in this chunk.
      std::size_t end = s.size();
      std::size_t consumed_end = end;
      bool leaves = false;
      if (delim_ == delim::double_quote || delim_ == delim::single_quote) {
        const auto q = s.find(delim_ == delim::double_quote ? '"' : '\'');
        if (q != std::string_view::npos) {
          end = q;
          consumed_end = q + 1;
          leaves = true;
        }
      } else if (delim_ == delim::space_or_tag_end) {
        const auto q = s.find_first_of(" \t\n\f\r>");
        if (q != std::string_view::npos) {
          end = q;
          consumed_end = q;
          leaves = true;
        }
      } else {  // <script> or <style> content, up to the end tag
        const std::string_view tag = element_ == element::script ? "</script" : "</style";
        for (std::size_t i = 0; i + tag.size() <= s.size(); ++i) {
          if (s[i] == '<' && starts_with_ci(s.substr(i), tag)) {
            end = i;
            consumed_end = i;
            leaves = true;
            break;
          }
        }
      }
      const std::string_view part = s.substr(0, end);
      if (state_ == state::url) {
        if (part.find_first_of("#?") != std::string_view::npos) {
          url_part_ = url_part::query_or_fragment;
        } else if (url_part_ == url_part::none &&
                   std::any_of(part.begin(), part.end(), [](char c) { return !is_space(c); })) {
          url_part_ = url_part::pre_query;
        }
      } else if (state_ == state::js) {
        for (std::size_t i = 0; i < part.size(); ++i) {
          if (js_quote_ == 0) {
            if (part[i] == '"' || part[i] == '\'' || part[i] == '`') js_quote_ = part[i];
          } else if (part[i] == '\\') {
            ++i;
          } else if (part[i] == js_quote_) {
            js_quote_ = 0;
          }
        }
      }
      out += s.substr(0, consumed_end);
      if (leaves) {
        state_ = delim_ == delim::none ? state::text : state::tag;
        if (delim_ == delim::none) element_ = element::none;
        delim_ = delim::none;
      }
      return consumed_end;
    }
  }
  return s.size();
}

std::string html_context::escape(const value& v, std::string_view predefined) const {
  // html/template's stringify: a string as is, no value as "", anything else as Go prints it.
  const bool safe_html = v.type() == value::kind::string && v.is_safe_html();
  std::string text = v.type() == value::kind::string                   ? v.as_string()
                     : (!v.is_valid() || v.type() == value::kind::nil) ? std::string()
                                                                       : to_go_string(v);
  // The delimiter's escaper, after the context's own; "html" is as strict as the quoted one.
  const auto attr_escape = [&](const std::string& s) {
    if (delim_ == delim::space_or_tag_end) return html_nospace_escape(s);
    if (delim_ == delim::none || predefined == "html") return s;
    return safe_html ? html_escape(strip_tags(s), true) : html_escape(s);
  };
  state context = state_;
  if (context == state::before_value) {  // an unquoted value starts here
    switch (attr_) {
      case attr_kind::url:
        context = state::url;
        break;
      case attr_kind::js:
        context = state::js;
        break;
      case attr_kind::css:
        context = state::css;
        break;
      case attr_kind::none:
        context = state::attr;
        break;
    }
  }
  const auto in_attr = [&](const std::string& s) {
    if (state_ != state::before_value) return attr_escape(s);
    return html_nospace_escape(s);
  };
  switch (context) {
    case state::text:
      if (safe_html || predefined == "html") return text;
      return html_escape(text);
    case state::rcdata:
      if (predefined == "html") return text;
      return html_escape(text, safe_html);
    case state::comment:
      return {};
    case state::tag:
    case state::attr_name:
    case state::after_name:
      return html_name_filter(text);
    case state::before_value:
    case state::attr:
      return in_attr(text);
    case state::url: {
      // The predefined urlquery stands in for the URL escaper or normaliser. (Go applies the
      // filter before it; applied after, a refused scheme reads %23ZgotmplZ there, and here the
      // escaped URL, which has no scheme left.)
      std::string s = text;
      if (predefined != "urlquery") {
        switch (url_part_) {
          case url_part::none:
            s = url_process(url_filter(s), true);
            break;
          case url_part::pre_query:
            s = url_process(s, true);
            break;
          case url_part::query_or_fragment:
            s = url_process(s, false);
            break;
        }
      }
      return in_attr(s);
    }
    case state::js:
      return in_attr(js_quote_ != 0 ? js_string_escape(text) : js_value_escape(v));
    case state::css:
      return in_attr(css_value_filter(text));
  }
  return html_escape(text);
}

}  // namespace tocsin::sinks::go_template
