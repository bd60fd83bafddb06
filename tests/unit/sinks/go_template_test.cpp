// The Go text/template engine against Go itself: each case's expected output (or the tail of
// its error message) was produced by Go's text/template (go1.26) executing the same text over
// the same data (a cut-down version of the `tVal` of Go's own exec_test.go), plus the engine's
// own guarantees: error locations, limits against hostile templates, namespaces, time printing.

#include "sinks/go_template.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace tocsin::sinks::go_template {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

value ints(std::initializer_list<std::int64_t> items) {
  static const type_info int_slice{"[]int", {}};
  value::list_type list;
  for (const auto i : items) list.emplace_back(i);
  return value::list(std::move(list), &int_slice);
}

value int_map(std::initializer_list<std::pair<const std::string, std::int64_t>> items) {
  static const type_info type{"map[string]int", {}};
  value::map_type m;
  for (const auto& [k, v] : items) m.emplace(k, value(v));
  return value::map(std::move(m), value(0), &type);
}

// The data of the cases: a struct T with methods Method0, Method1, Method2 and GetU.
value test_data() {
  static const type_info u_type{"main.U", {}};
  static const type_info string_map{"map[string]string", {}};
  static const type_info bool_slice{"[]bool", {}};
  static const type_info map_slice{"[]map[string]int", {}};
  static const type_info t_type = [] {
    type_info t{"main.T", {}};
    t.methods["Method0"] = {0, 0, [](auto) { return value("M0"); }};
    t.methods["Method1"] = {1, 1, [](auto a) { return value(want_int(a[1])); }};
    t.methods["Method2"] = {
        2, 2, [](auto a) {
          return value("Method2: " + std::to_string(want_int(a[1])) + " " + want_string(a[2]));
        }};
    t.methods["GetU"] = {0, 0, [](auto a) { return *a[0].field("U"); }};
    return t;
  }();
  return value::record(
      {
          {"True", value(true)},
          {"I", value(17)},
          {"X", value("x")},
          {"FloatZero", value(0.0)},
          {"U", value::record({{"V", value("v")}}, &u_type)},
          {"SI", ints({3, 4, 5})},
          {"SIEmpty", ints({})},
          {"SB", value::list({value(true), value(false)}, &bool_slice)},
          {"SS", value::strings({"a", "b c"})},
          {"MSI", int_map({{"one", 1}, {"two", 2}, {"three", 3}})},
          {"MSIone", int_map({{"one", 1}})},
          {"MSIEmpty", int_map({})},
          {"MSS", value::map({{"k", value("v")}, {"a", value("b")}}, value(""), &string_map)},
          {"SMSI", value::list({int_map({{"one", 1}, {"two", 2}}),
                                int_map({{"eleven", 11}, {"twelve", 12}})},
                               &map_slice)},
          {"Empty0", value()},
          {"Empty3", ints({7, 8})},
          {"F", value(1234567.5)},
      },
      &t_type);
}

function_map test_functions() {
  function_map f = builtin_functions();
  f["join"] = {2, 2, [](auto a) {
                 std::string out;
                 for (const auto& s : want_strings(a[1])) {
                   out += (out.empty() ? "" : want_string(a[0])) + s;
                 }
                 return value(out);
               }};
  return f;
}

enum expectation { ok, parse_error, exec_error };

struct go_case {
  const char* name;
  const char* input;
  const char* expected;  // the output, or the tail of Go's error message
  expectation outcome;
  bool missing_zero;  // run with missingkey=zero, as Alertmanager does
};

const go_case go_cases[] = {
    {"empty", R"go()go", R"go()go", ok, false},
    {"text", R"go(some text)go", R"go(some text)go", ok, false},
    {"nil action", R"go({{nil}})go", R"go(nil is not a command)go", exec_error, false},
    {"field", R"go(-{{.X}}-)go", R"go(-x-)go", ok, false},
    {"nested field", R"go(-{{.U.V}}-)go", R"go(-v-)go", ok, false},
    {"map key", R"go({{.MSI.one}})go", R"go(1)go", ok, false},
    {"map missing key", R"go({{.MSI.NO}})go", R"go(<no value>)go", ok, false},
    {"map missing key zero", R"go({{.MSS.NO}}|{{.MSI.NO}})go", R"go(|0)go", ok, true},
    {"map key with args", R"go({{.MSI.one 1}})go", R"go(one is not a method but has arguments)go",
     exec_error, false},
    {"dot slice", R"go(<{{.SI}}>)go", R"go(<[3 4 5]>)go", ok, false},
    {"dot map", R"go(<{{.MSI}}>)go", R"go(<map[one:1 three:3 two:2]>)go", ok, false},
    {"struct", R"go({{.U}})go", R"go({v})go", ok, false},
    {"$ field", R"go({{$.I}})go", R"go(17)go", ok, false},
    {"declare", R"go({{$x := $.U.V}}{{$x}})go", R"go(v)go", ok, false},
    {"nil interface", R"go({{.Empty0}})go", R"go(<no value>)go", ok, false},
    {"interface slice", R"go({{.Empty3}})go", R"go([7 8])go", ok, false},
    {"method0", R"go(-{{.Method0}}-)go", R"go(-M0-)go", ok, false},
    {"method1 literal", R"go(-{{.Method1 1234}}-)go", R"go(-1234-)go", ok, false},
    {"method1 field", R"go(-{{.Method1 .I}}-)go", R"go(-17-)go", ok, false},
    {"method2", R"go(-{{.Method2 3 .X}}-)go", R"go(-Method2: 3 x-)go", ok, false},
    {"method2 var", R"go({{if $x := .X}}-{{.Method2 .I $x}}{{end}}-)go", R"go(-Method2: 17 x-)go",
     ok, false},
    {"method pipeline", R"go(-{{.Method0 | .Method2 .I}}-)go", R"go(-Method2: 17 M0-)go", ok,
     false},
    {"paren $", R"go({{($).X}})go", R"go(x)go", ok, false},
    {"paren method field", R"go({{($.GetU).V}})go", R"go(v)go", ok, false},
    {"chained method", R"go({{$.GetU.V}})go", R"go(v)go", ok, false},
    {"unknown field", R"go({{.Nope}})go", R"go(can't evaluate field Nope in type main.T)go",
     exec_error, false},
    {"if true", R"go({{if true}}TRUE{{end}})go", R"go(TRUE)go", ok, false},
    {"if false", R"go({{if false}}TRUE{{else}}FALSE{{end}})go", R"go(FALSE)go", ok, false},
    {"if 1", R"go({{if 1}}NON-ZERO{{else}}ZERO{{end}})go", R"go(NON-ZERO)go", ok, false},
    {"if 0", R"go({{if 0}}NON-ZERO{{else}}ZERO{{end}})go", R"go(ZERO)go", ok, false},
    {"if 1.5", R"go({{if 1.5}}NON-ZERO{{else}}ZERO{{end}})go", R"go(NON-ZERO)go", ok, false},
    {"if float zero", R"go({{if .FloatZero}}NON-ZERO{{else}}ZERO{{end}})go", R"go(ZERO)go", ok,
     false},
    {"if empty string", R"go({{if ``}}NON-EMPTY{{else}}EMPTY{{end}})go", R"go(EMPTY)go", ok, false},
    {"if empty slice", R"go({{if .SIEmpty}}NON-EMPTY{{else}}EMPTY{{end}})go", R"go(EMPTY)go", ok,
     false},
    {"if map", R"go({{if .MSI}}NON-EMPTY{{else}}EMPTY{{end}})go", R"go(NON-EMPTY)go", ok, false},
    {"if missing", R"go({{if .MSI.none}}NON-ZERO{{else}}ZERO{{end}})go", R"go(ZERO)go", ok, false},
    {"if $x with $y", R"go({{if $x := true}}{{with $y := .I}}{{$x}},{{$y}}{{end}}{{end}})go",
     R"go(true,17)go", ok, false},
    {"if $x with $x", R"go({{if $x := true}}{{with $x := .I}}{{$x}},{{end}}{{$x}}{{end}})go",
     R"go(17,true)go", ok, false},
    {"else if", R"go({{if false}}FALSE{{else if true}}TRUE{{end}})go", R"go(TRUE)go", ok, false},
    {"else if chain", R"go({{if eq 1 3}}1{{else if eq 2 3}}2{{else if eq 3 3}}3{{else}}4{{end}})go",
     R"go(3)go", ok, false},
    {"if nil", R"go({{if nil}}TRUE{{end}})go", R"go(nil is not a command)go", exec_error, false},
    {"print", R"go({{print "hello, print"}})go", R"go(hello, print)go", ok, false},
    {"print ints", R"go({{print 1 2 3}})go", R"go(1 2 3)go", ok, false},
    {"print mixed", R"go({{print "a" 1 2 "b" 3.5 true}})go", R"go(a1 2b3.5 true)go", ok, false},
    {"print nil", R"go({{print nil}})go", R"go(<nil>)go", ok, false},
    {"println", R"go({{println 1 2 3}})go", R"go(1 2 3
)go",
     ok, false},
    {"printf hex", R"go({{printf "%04x" 127}})go", R"go(007f)go", ok, false},
    {"printf float", R"go({{printf "%g" 3.5}})go", R"go(3.5)go", ok, false},
    {"printf field", R"go({{printf "%s" .U.V}})go", R"go(v)go", ok, false},
    {"printf var", R"go({{with $x := .I}}{{printf "%d" $x}}{{end}})go", R"go(17)go", ok, false},
    {"printf lots", R"go({{printf "%d %s %g %s" 127 "hello" 7.5 .Method0}})go",
     R"go(127 hello 7.5 M0)go", ok, false},
    {"printf bad verb", R"go({{printf "%d|%s|%z" "x" 5 1}})go",
     R"go(%!d(string=x)|%!s(int=5)|%!z(int=1))go", ok, false},
    {"printf missing", R"go({{printf "%s %s" "a"}})go", R"go(a %!s(MISSING))go", ok, false},
    {"printf extra", R"go({{printf "%s" "a" "b" 3}})go", R"go(a%!(EXTRA string=b, int=3))go", ok,
     false},
    {"printf verbs",
     R"go({{printf "%5.2f|%-5d|%+d|%q|%v|%t|%x|%X|%c|%%" 3.14159 42 7 "hi\n" .SI true "hi" 255 65}})go",
     R"go( 3.14|42   |+7|"hi\n"|[3 4 5]|true|6869|FF|A|%)go", ok, false},
    {"printf types", R"go({{printf "%T %T %T %T %T %T" 1 1.5 "s" .SS .MSI true}})go",
     R"go(int float64 string []string map[string]int bool)go", ok, false},
    {"printf widths", R"go({{printf "%.3s|%8s|%-8s|%5t|" "abcdef" "ab" "ab" true}})go",
     R"go(abc|      ab|ab      | true|)go", ok, false},
    {"printf ints", R"go({{printf "%05d|%x|%o|%b|%#x|%#o" -42 -255 8 5 255 8}})go",
     R"go(-0042|-ff|10|101|0xff|010)go", ok, false},
    {"printf floats",
     R"go({{printf "%e|%.2e|%g|%G|%.1f|%8.3f|%-8.1f|" 1234.5678 1234.5678 0.000012345 1e21 2.25 3.14159 2.5}})go",
     R"go(1.234568e+03|1.23e+03|1.2345e-05|1E+21|2.2|   3.142|2.5     |)go", ok, false},
    {"printf slices", R"go({{printf "%v|%d|%s|%q" .SI .SI .SS .SS}})go",
     R"go([3 4 5]|[3 4 5]|[a b c]|["a" "b c"])go", ok, false},
    {"printf map", R"go({{printf "%v|%+v" .MSS .U}})go", R"go(map[a:b k:v]|{V:v})go", ok, false},
    {"float default",
     R"go({{.F}} {{1e6}} {{0.0001}} {{0.00001}} {{100000.0}} {{1.0}} {{123456789.0}} {{-2.5e-7}})go",
     R"go(1.2345675e+06 1e+06 0.0001 1e-05 100000 1 1.23456789e+08 -2.5e-07)go", ok, false},
    {"html", R"go({{html "<script>alert(\"XSS\");</script>"}})go",
     R"go(&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;)go", ok, false},
    {"html pipeline", R"go({{printf "<script>alert(\"XSS\");</script>" | html}})go",
     R"go(&lt;script&gt;alert(&#34;XSS&#34;);&lt;/script&gt;)go", ok, false},
    {"html args", R"go({{html "a" 1 2 "&"}})go", R"go(a1 2&amp;)go", ok, false},
    {"html missing", R"go({{html .MSI.NO}})go", R"go(&lt;no value&gt;)go", ok, false},
    {"js", R"go({{js "It'd be nice."}})go", R"go(It\'d be nice.)go", ok, false},
    {"js specials", R"go({{js "<a href=\"x\">\n\t=&"}})go",
     R"go(\u003Ca href\u003D\"x\"\u003E\u000A\u0009\u003D\u0026)go", ok, false},
    {"urlquery", R"go({{"http://www.example.org/"|urlquery}})go",
     R"go(http%3A%2F%2Fwww.example.org%2F)go", ok, false},
    {"urlquery utf8", R"go({{urlquery "a b&c=d/é~_.-"}})go", R"go(a+b%26c%3Dd%2F%C3%A9~_.-)go", ok,
     false},
    {"not", R"go({{not true}} {{not false}} {{not ""}} {{not .SI}})go",
     R"go(false true true false)go", ok, false},
    {"and", R"go({{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}})go", R"go(false 0 0 1)go",
     ok, false},
    {"or", R"go({{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}})go", R"go(0 1 true 1)go", ok, false},
    {"and if", R"go({{if and true 1 `hi`}}TRUE{{else}}FALSE{{end}})go", R"go(TRUE)go", ok, false},
    {"and not", R"go({{if and true 1 `hi` | not}}TRUE{{else}}FALSE{{end}})go", R"go(FALSE)go", ok,
     false},
    {"or slice", R"go({{or .SI "slice is empty"}})go", R"go([3 4 5])go", ok, false},
    {"or empty slice", R"go({{or .SIEmpty "slice is empty"}})go", R"go(slice is empty)go", ok,
     false},
    {"and short circuit", R"go({{and false (index .SI 10)}})go", R"go(false)go", ok, false},
    {"index slice", R"go({{index .SI 0}} {{index .SI 2}})go", R"go(3 5)go", ok, false},
    {"index out of range", R"go({{index .SI 10}})go",
     R"go(error calling index: index out of range: 10)go", exec_error, false},
    {"index wrong type", R"go({{index .SI `hello`}})go",
     R"go(error calling index: cannot index slice/array with type string)go", exec_error, false},
    {"index map", R"go({{index .MSI `one`}})go", R"go(1)go", ok, false},
    {"index map missing", R"go({{index .MSI `XXX`}})go", R"go(0)go", ok, false},
    {"index double", R"go({{index .SMSI 1 `eleven`}})go", R"go(11)go", ok, false},
    {"index nil", R"go({{index nil 1}})go", R"go(error calling index: index of untyped nil)go",
     exec_error, false},
    {"index string", R"go({{index "hello" 1}})go", R"go(101)go", ok, false},
    {"slice string", R"go({{slice "hello" 1 3}}|{{slice "hello" 2}}|{{slice "hello"}})go",
     R"go(el|llo|hello)go", ok, false},
    {"slice list", R"go({{slice .SI 1}}|{{slice .SI 1 2}})go", R"go([4 5]|[4])go", ok, false},
    {"slice bad", R"go({{slice .SI 2 1}})go",
     R"go(error calling slice: invalid slice index: 2 > 1)go", exec_error, false},
    {"len", R"go({{len .SI}} {{len .MSI}} {{len "héllo"}} {{len .SIEmpty}})go", R"go(3 3 6 0)go",
     ok, false},
    {"len int", R"go({{len 3}})go", R"go(error calling len: len of type int)go", exec_error, false},
    {"len nothing", R"go({{len .Empty0}})go", R"go(error calling len: len of nil pointer)go",
     exec_error, false},
    {"with true", R"go({{with true}}{{.}}{{end}})go", R"go(true)go", ok, false},
    {"with false", R"go({{with false}}{{.}}{{else}}FALSE{{end}})go", R"go(FALSE)go", ok, false},
    {"with 1.5", R"go({{with 1.5}}{{.}}{{else}}ZERO{{end}})go", R"go(1.5)go", ok, false},
    {"with slice", R"go({{with .SI}}{{.}}{{else}}EMPTY{{end}})go", R"go([3 4 5])go", ok, false},
    {"with empty map", R"go({{with .MSIEmpty}}{{.}}{{else}}EMPTY{{end}})go", R"go(EMPTY)go", ok,
     false},
    {"with map", R"go({{with .MSIone}}{{.}}{{else}}EMPTY{{end}})go", R"go(map[one:1])go", ok,
     false},
    {"with variable", R"go({{with $x := $}}{{$y := $.U.V}}{{$y}}{{end}})go", R"go(v)go", ok, false},
    {"range slice", R"go({{range .SI}}-{{.}}-{{end}})go", R"go(-3--4--5-)go", ok, false},
    {"range empty else", R"go({{range .SIEmpty}}-{{.}}-{{else}}EMPTY{{end}})go", R"go(EMPTY)go", ok,
     false},
    {"range map", R"go({{range .MSI}}-{{.}}-{{end}})go", R"go(-1--3--2-)go", ok, false},
    {"range map else", R"go({{range .MSIEmpty}}-{{.}}-{{else}}EMPTY{{end}})go", R"go(EMPTY)go", ok,
     false},
    {"range index elem", R"go({{range $x, $y := .SI}}<{{$x}}={{$y}}>{{end}})go",
     R"go(<0=3><1=4><2=5>)go", ok, false},
    {"range key value", R"go({{range $k, $v := .MSI}}<{{$k}}={{$v}}>{{end}})go",
     R"go(<one=1><three=3><two=2>)go", ok, false},
    {"range nil", R"go({{range .Empty0}}-{{.}}-{{end}})go", R"go()go", ok, false},
    {"range declare inside", R"go({{range $x := .SI}}<{{$foo:=$x}}{{$x}}>{{end}})go",
     R"go(<3><4><5>)go", ok, false},
    {"range dollar", R"go({{range .SI}}{{$.X}}{{.}}{{end}})go", R"go(x3x4x5)go", ok, false},
    {"range continue", R"go({{range .SI}}{{if eq . 4}}{{continue}}{{end}}{{.}}{{end}})go",
     R"go(35)go", ok, false},
    {"range break", R"go({{range .SI}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}})go", R"go(3)go", ok,
     false},
    {"range strings", R"go({{range $i, $e := .SS}}{{$i}}:{{$e}};{{end}})go", R"go(0:a;1:b c;)go",
     ok, false},
    {"range nested", R"go({{range .SMSI}}[{{range $k, $v := .}}{{$k}}={{$v}} {{end}}]{{end}})go",
     R"go([one=1 two=2 ][eleven=11 twelve=12 ])go", ok, false},
    {"range int", R"go({{range .X}}{{end}})go", R"go(range can't iterate over x)go", exec_error,
     false},
    {"assign", R"go({{$x := 1}}{{$x = 2}}{{$x}})go", R"go(2)go", ok, false},
    {"assign in range", R"go({{$x := 0}}{{range .SI}}{{$x = .}}{{end}}{{$x}})go", R"go(5)go", ok,
     false},
    {"non-function args", R"go({{3 2}})go", R"go(can't give argument to non-function 3)go",
     exec_error, false},
    {"variable with args", R"go({{$x := 1}}{{$x 2}})go",
     R"go(can't give argument to non-function $x)go", exec_error, false},
    {"undefined variable", R"go({{$y}})go", R"go(undefined variable "$y")go", parse_error, false},
    {"eq",
     R"go({{eq 1 1}} {{eq 1 2}} {{eq `a` `a`}} {{eq .I 17}} {{eq 1 2 3 1}} {{eq .X "y" "x"}})go",
     R"go(true false true true true true)go", ok, false},
    {"compare", R"go({{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt `b` `a`}} {{ge 1.5 2.5}} {{lt -1 0}})go",
     R"go(true true true true false true)go", ok, false},
    {"eq mixed", R"go({{eq 1 `a`}})go",
     R"go(error calling eq: incompatible types for comparison: int and string)go", exec_error,
     false},
    {"lt bool", R"go({{lt true false}})go", R"go(error calling lt: invalid type for comparison)go",
     exec_error, false},
    {"eq missing", R"go({{eq .MSI.NO 3}})go", R"go(false)go", ok, false},
    {"eq slices", R"go({{eq .SI .SI}})go",
     R"go(error calling eq: non-comparable type [%!s(int=3) %!s(int=4) %!s(int=5)]: []int)go",
     exec_error, false},
    {"trim both", R"go(a  {{- 3 -}}  b)go", R"go(a3b)go", ok, false},
    {"trim newlines", R"go({{3 -}}

{{4}})go",
     R"go(34)go", ok, false},
    {"trim comment", R"go(x {{- /* comment */ -}} y)go", R"go(xy)go", ok, false},
    {"comment", R"go({{/* c */}}z{{/* multi
line */}})go",
     R"go(z)go", ok, false},
    {"string escapes", R"go({{"a\tb\u00e9\x41\101\\\""}})go", R"go(a	béAA\")go", ok, false},
    {"raw string", R"go({{`raw\n`}})go", R"go(raw\n)go", ok, false},
    {"char", R"go({{'a'}} {{'\n'}} {{'é'}})go", R"go(97 10 233)go", ok, false},
    {"numbers", R"go({{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{-3}} {{+4}} {{0x1p4}})go",
     R"go(31 15 15 5 1000 -3 4 16)go", ok, false},
    {"define",
     R"go({{define "T1"}}ONE{{end}}{{define "T2"}}TWO {{template "T1"}}{{end}}{{template "T2"}})go",
     R"go(TWO ONE)go", ok, false},
    {"template dot", R"go({{define "x"}}[{{.}}]{{end}}{{template "x" .I}})go", R"go([17])go", ok,
     false},
    {"template no dot", R"go({{define "x"}}[{{.}}]{{end}}{{template "x"}})go",
     R"go([<no value>])go", ok, false},
    {"template vars", R"go({{define "x"}}{{$}}{{end}}{{$y := 3}}{{template "x" .X}})go", R"go(x)go",
     ok, false},
    {"block", R"go({{block "b" .X}}<{{.}}>{{end}})go", R"go(<x>)go", ok, false},
    {"template undefined", R"go({{template "nope"}})go", R"go(template "nope" not defined)go",
     exec_error, false},
    {"chain index", R"go({{(index .SMSI 0).one}})go", R"go(1)go", ok, false},
    {"chain printf", R"go({{(printf "%s" "x") | printf "%s-%s" "y"}})go", R"go(y-x)go", ok, false},
    {"join", R"go({{.SS | join ", "}})go", R"go(a, b c)go", ok, false},
    {"pipe last arg", R"go({{"aaa" | printf "%s-%s" "bbb"}})go", R"go(bbb-aaa)go", ok, false},
    {"chain literal", R"go({{$x := (1.0)}}{{$x.anything}})go",
     R"go(can't evaluate field anything in type float64)go", exec_error, false},
    {"nil field", R"go({{(nil).True}})go", R"go(nil is not a command)go", exec_error, false},
    {"unclosed action", R"go({{.X)go", R"go(unclosed action)go", parse_error, false},
    {"unclosed if", R"go({{if .X}})go", R"go(unexpected EOF)go", parse_error, false},
    {"unexpected end", R"go({{end}})go", R"go(unexpected {{end}})go", parse_error, false},
    {"unexpected else", R"go({{else}})go", R"go(unexpected {{else}})go", parse_error, false},
    {"undefined function", R"go({{nosuchfunc}})go", R"go(function "nosuchfunc" not defined)go",
     parse_error, false},
    {"unterminated string", R"go({{"abc}})go", R"go(unterminated quoted string)go", parse_error,
     false},
    {"pipeline literal", R"go({{.X | 3}})go", R"go(non executable command in pipeline stage 2)go",
     parse_error, false},
    {"unclosed paren", R"go({{(1}})go", R"go(unclosed left paren)go", parse_error, false},
    {"unexpected paren", R"go({{)}})go", R"go(unexpected right paren)go", parse_error, false},
    {"break outside", R"go({{break}})go", R"go({{break}} outside {{range}})go", parse_error, false},
    {"bad number", R"go({{3k}})go", R"go(bad number syntax: "3k")go", parse_error, false},
    {"empty action", R"go({{}})go", R"go(missing value for command)go", parse_error, false},
    {"missing if value", R"go({{if}}{{end}})go", R"go(missing value for if)go", parse_error, false},
    {"multiple define", R"go({{define "a"}}1{{end}}{{define "a"}}2{{end}})go",
     R"go(template: multiple definition of template "a")go", parse_error, false},
    {"unclosed comment", R"go({{/* x }})go", R"go(unclosed comment)go", parse_error, false},
    {"comment not closed right", R"go({{/* x */ .X}})go",
     R"go(comment ends before closing delimiter)go", parse_error, false},
    {"define in action", R"go({{if true}}{{define "x"}}{{end}}{{end}})go",
     R"go(unexpected <define> in command)go", parse_error, false},
};

// Go's messages that this engine words differently; the error itself is the same. ("eq mixed":
// Go 1.19, which Alertmanager 0.25 is built with, has no ": int and string" yet.)
bool message_differs(std::string_view name) {
  static const std::vector<std::string_view> differs = {
      "unknown field", "index wrong type", "slice bad",          "eq slices", "chain literal",
      "nil field",     "bad number",       "template undefined", "eq mixed"};
  return std::find(differs.begin(), differs.end(), name) != differs.end();
}

class go_exec : public ::testing::TestWithParam<go_case> {};

TEST_P(go_exec, matches_go) {
  const go_case& c = GetParam();
  template_set set(test_functions(), c.missing_zero ? missing_key::zero : missing_key::no_value);
  const auto parse_error_text = set.parse("t", c.input, {"case.tmpl", 1});
  if (c.outcome == parse_error) {
    ASSERT_TRUE(parse_error_text.has_value()) << c.input;
    EXPECT_THAT(*parse_error_text, StartsWith("case.tmpl:1: template: "));
    if (!message_differs(c.name)) EXPECT_THAT(*parse_error_text, HasSubstr(c.expected));
    return;
  }
  ASSERT_FALSE(parse_error_text.has_value()) << *parse_error_text;
  const render_result r = set.execute("t", test_data());
  if (c.outcome == exec_error) {
    ASSERT_FALSE(r.ok()) << "output: " << r.text;
    EXPECT_THAT(r.error, StartsWith("case.tmpl:"));
    if (!message_differs(c.name)) EXPECT_THAT(r.error, HasSubstr(c.expected));
    return;
  }
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.text, c.expected) << c.input;
}

std::string case_name(const ::testing::TestParamInfo<go_case>& info) {
  std::string name;
  for (const char* p = info.param.name; *p != '\0'; ++p) {
    name += std::isalnum(static_cast<unsigned char>(*p)) != 0 ? *p : '_';
  }
  return name + "_" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(go_text_template, go_exec, ::testing::ValuesIn(go_cases), case_name);

// --- Locations -------------------------------------------------------------------------------

TEST(go_template_errors, parse_errors_name_the_file_and_the_line_the_text_starts_on) {
  template_set set;
  // A value that starts on line 40 of a config file, broken on its third line.
  const auto error =
      set.parse("", "first\nsecond\n{{ .X | }}{{ nosuch }}", {"alertmanager.yml", 40});
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(*error, "alertmanager.yml:42: template: function \"nosuch\" not defined");
}

TEST(go_template_errors, execution_errors_name_the_template_file_and_line) {
  template_set set;
  ASSERT_FALSE(set.parse("top",
                         "line 1\nline 2\nline 3\n{{template \"one\" .}}\n"
                         "{{define \"one\"}}{{template \"two\" .}}{{end}}\n"
                         "{{define \"two\"}}{{template \"three\" .}}{{end}}\n"
                         "{{define \"three\"}}{{index \"hi\" $}}{{end}}",
                         {"top.tmpl", 1}));
  const render_result r = set.execute("top", value(5));
  EXPECT_EQ(r.error,
            "top.tmpl:7: template: executing \"three\" at <index \"hi\" $>: error calling index: "
            "index out of range: 5");
  EXPECT_EQ(r.text, "");
}

TEST(go_template_errors, a_missing_template_name_is_an_error_not_a_crash) {
  template_set set;
  EXPECT_FALSE(set.execute("nope", value()).ok());
}

// --- Limits against hostile templates ---------------------------------------------------------

TEST(go_template_limits, endless_recursion_stops_at_the_depth_limit) {
  template_set set;
  ASSERT_FALSE(
      set.parse("t", R"({{define "r"}}x{{template "r" .}}{{end}}{{template "r" .}})", {"t", 1}));
  const render_result r = set.execute("t", value());
  EXPECT_THAT(r.error, HasSubstr("exceeded maximum template depth (100)"));
}

TEST(go_template_limits, output_is_capped) {
  limits lim;
  lim.max_output = 1000;
  template_set set(builtin_functions(), missing_key::no_value, lim);
  ASSERT_FALSE(set.parse("t", R"({{range .}}{{range $}}0123456789{{end}}{{end}})", {"t", 1}));
  value::list_type many(100, value(1));
  const render_result r = set.execute("t", value::list(std::move(many)));
  EXPECT_THAT(r.error, HasSubstr("output exceeds 1000 bytes"));
  EXPECT_EQ(r.text, "");
}

TEST(go_template_limits, exponential_fan_out_stops_at_the_step_limit) {
  // Each level calls the next twice: 2^40 calls without a step limit.
  std::string text = R"({{define "l40"}}x{{end}})";
  for (int i = 39; i >= 0; --i) {
    text += "{{define \"l" + std::to_string(i) + "\"}}{{template \"l" + std::to_string(i + 1) +
            "\"}}{{template \"l" + std::to_string(i + 1) + "\"}}{{end}}";
  }
  text += R"({{template "l0"}})";
  limits lim;
  lim.max_output = 1U << 30;
  template_set set(builtin_functions(), missing_key::no_value, lim);
  ASSERT_FALSE(set.parse("t", text, {"t", 1}));
  const auto start = std::chrono::steady_clock::now();
  const render_result r = set.execute("t", value());
  EXPECT_THAT(r.error, HasSubstr("evaluation steps"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(go_template_limits, deep_nesting_is_a_parse_error_not_a_stack_overflow) {
  template_set set;
  const std::string parens =
      "{{" + std::string(100000, '(') + "1" + std::string(100000, ')') + "}}";
  EXPECT_THAT(set.parse("t", parens, {"t", 1}).value_or(""), HasSubstr("nested too deeply"));
  std::string ifs;
  for (int i = 0; i < 100000; ++i) ifs += "{{if 1}}";
  EXPECT_TRUE(set.parse("t", ifs, {"t", 1}).has_value());
}

TEST(go_template_limits, hostile_printf_widths_do_not_exhaust_memory) {
  template_set set;
  ASSERT_FALSE(set.parse("t", R"({{printf "%999999999999d" 1}})", {"t", 1}));
  const render_result r = set.execute("t", value());
  EXPECT_TRUE(r.ok() ? r.text.size() <= 1000001 : true);
}

TEST(go_template_limits, garbage_never_crashes) {
  // Every prefix of a template exercising most of the grammar: each parses or fails cleanly.
  const std::string text =
      R"({{- define "a" -}}{{ range $i, $e := .SI }}{{ if and (gt $e 3) (lt $i 9) }})"
      R"({{ printf "%d:%q" $i "x\ty" | html }}{{ else if not . }}{{ break }}{{ end }}{{ end }})"
      R"({{- /* c */ -}}{{ end }}{{ block "b" . }}{{ (index .SMSI 0).one }}{{ end }})";
  for (std::size_t n = 0; n <= text.size(); ++n) {
    template_set set;
    if (!set.parse("t", text.substr(0, n), {"t", 1})) {
      (void)set.execute("t", test_data());
      (void)set.execute("a", test_data());
    }
  }
}

// --- Namespaces -------------------------------------------------------------------------------

TEST(go_template_set, a_later_definition_replaces_an_earlier_one_unless_it_is_empty) {
  template_set set;
  ASSERT_FALSE(set.parse("one", R"({{define "x"}}first{{end}})", {"one", 1}));
  ASSERT_FALSE(set.parse("two", R"({{define "x"}}second{{end}})", {"two", 1}));
  EXPECT_EQ(set.execute("x", value()).text, "second");
  ASSERT_FALSE(set.parse("three", "{{define \"x\"}}  \n{{end}}", {"three", 1}));
  EXPECT_EQ(set.execute("x", value()).text, "second");
  EXPECT_TRUE(set.defines("x"));
  EXPECT_FALSE(set.defines("y"));
}

TEST(go_template_set, inline_text_sees_the_set_and_its_own_defines_stay_its_own) {
  template_set set;
  ASSERT_FALSE(set.parse("lib", R"({{define "greet"}}hello {{.}}{{end}})", {"lib", 1}));
  const auto r =
      set.execute_text(R"({{define "own"}}!{{end}}{{template "greet" .}}{{template "own"}})",
                       value("world"), {"cfg", 3});
  EXPECT_EQ(r.text, "hello world!");
  EXPECT_FALSE(set.defines("own"));
  EXPECT_EQ(set.execute_text("", value(), {}).text, "");
  EXPECT_EQ(set.execute_text("{{", value(), {"cfg", 3}).error, "cfg:3: template: unclosed action");
}

// --- Values -----------------------------------------------------------------------------------

TEST(go_values, times_print_like_go) {
  EXPECT_EQ(format_go_time(time_value::go_zero()), "0001-01-01 00:00:00 +0000 UTC");
  const auto t = time_value::from(std::chrono::sys_days{std::chrono::year{2026} / 12 / 4} + 10h +
                                  5min + 7s + 120ms);
  EXPECT_EQ(format_go_time(t), "2026-12-04 10:05:07.12 +0000 UTC");
  EXPECT_EQ(format_go_time(t, "2006-01-02T15:04:05Z07:00"), "2026-12-04T10:05:07Z");
  EXPECT_EQ(format_go_time(t, "Mon Jan _2 3:04:05.000 PM MST 2006"),
            "Fri Dec  4 10:05:07.120 AM UTC 2026");
  time_value madrid = t;
  madrid.offset = 1h;
  madrid.zone = "CET";
  EXPECT_EQ(format_go_time(madrid), "2026-12-04 11:05:07.12 +0100 CET");
  EXPECT_EQ(format_go_time(madrid, "January 2, 2006 15:04 -07:00 (002)"),
            "December 4, 2026 11:05 +01:00 (338)");
}

TEST(go_values, durations_print_like_go) {
  EXPECT_EQ(format_go_duration(0ns), "0s");
  EXPECT_EQ(format_go_duration(1500ms), "1.5s");
  EXPECT_EQ(format_go_duration(3723s), "1h2m3s");
  EXPECT_EQ(format_go_duration(150ms), "150ms");
  EXPECT_EQ(format_go_duration(1500ns), "1.5µs");
  EXPECT_EQ(format_go_duration(-90s), "-1m30s");
}

}  // namespace
}  // namespace tocsin::sinks::go_template
