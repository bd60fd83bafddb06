// Tests for rules/matcher.hpp: one RE2::Set scan per field, then captures and conditions for the
// candidate rules only. The set result is checked against a naive rule-by-rule RE2 loop.

#include "rules/matcher.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "collector/syslog_decoder.hpp"
#include "config/config.hpp"

namespace tocsin::rules {
namespace {

using captures = std::vector<std::pair<std::string, std::string>>;
using collector::event;
using testing::ElementsAre;
using testing::Pair;

rule_definition make_rule(std::string name, std::vector<std::pair<std::string, std::string>> match,
                          int min_severity = -1) {
  rule_definition r;
  r.name = std::move(name);
  for (auto& [field, pattern] : match) r.match.push_back({field, pattern, {}});
  r.min_severity = min_severity;
  return r;
}

// What compiled_rules::match() reports, as (rule name, captures).
std::vector<std::pair<std::string, captures>> run(const compiled_rules& rules, const event& ev) {
  std::vector<rule_match> matches;
  rules.match(ev, matches);
  std::vector<std::pair<std::string, captures>> out;
  for (const rule_match& m : matches) {
    out.emplace_back(rules.definitions()[m.rule].name, m.captures);
  }
  return out;
}

std::vector<std::string> names(const compiled_rules& rules, const event& ev) {
  std::vector<std::string> out;
  for (auto& [name, caps] : run(rules, ev)) out.push_back(name);
  return out;
}

// An event from an RFC 5424 line; the line must outlive the event.
event decode(const std::string& line) {
  event ev;
  const auto status = collector::decode_rfc5424(line, ev);
  EXPECT_TRUE(status.is_ok()) << line << ": " << (status.what ? status.what : "");
  return ev;
}

TEST(matcher, one_rule) {
  const compiled_rules rules({make_rule("disk-full", {{"message", "No space left on device"}})});
  struct test_case {
    const char* message;
    bool matches;
  };
  const std::vector<test_case> cases = {
      {"write failed: No space left on device", true},
      {"No space left on device", true},
      {"no space left on device", false},  // case-sensitive unless (?i)
      {"No space left", false},
      {"", false},  // an empty message is an absent one
  };
  for (const test_case& c : cases) {
    event ev;
    ev.message = c.message;
    EXPECT_EQ(names(rules, ev).size(), c.matches ? 1u : 0u) << c.message;
  }
}

// A field's patterns with a literal run behind the literal prefilter, the others on every event;
// either way the matches come in definition order, and Unicode case folding still matches.
TEST(matcher, patterns_with_and_without_literals_on_one_field) {
  const compiled_rules rules({
      make_rule("number", {{"message", "[0-9]{3}"}}),
      make_rule("oom", {{"message", "(?i)out of memory"}}),
      make_rule("short", {{"message", "^ok$"}}),
      make_rule("kelvin", {{"message", "(?i)kelvin"}}),
  });
  struct test_case {
    const char* message;
    std::vector<std::string> names;
  };
  const std::vector<test_case> cases = {
      {"Out Of Memory: 123 killed", {"number", "oom"}},
      {"OUT OF MEMORY", {"oom"}},
      {"ok", {"short"}},
      {"pid 404", {"number"}},
      {"\xE2\x84\xAA"
       "ELVIN",
       {"kelvin"}},  // KELVIN SIGN folds to k
      {"out of mem", {}},
  };
  for (const test_case& c : cases) {
    event ev;
    ev.message = c.message;
    EXPECT_EQ(names(rules, ev), c.names) << c.message;
  }
}

TEST(matcher, many_rules_report_every_match_in_definition_order) {
  const compiled_rules rules({
      make_rule("failed", {{"message", "failed"}}),
      make_rule("anchored", {{"message", "^Failed"}}),
      make_rule("case-insensitive", {{"message", "(?i)FAILED"}}),
      make_rule("sshd", {{"app", "^sshd$"}}),
      make_rule("ssh-prefix", {{"app", "ssh"}}),
      make_rule("everything", {{"message", ""}}),
      make_rule("timeout", {{"message", "timed? ?out"}}),
  });
  struct test_case {
    const char* app;
    const char* message;
    std::vector<std::string> expected;
  };
  const std::vector<test_case> cases = {
      {"sshd",
       "Failed password",
       {"anchored", "case-insensitive", "sshd", "ssh-prefix", "everything"}},
      {"sshd-session", "auth failed", {"failed", "case-insensitive", "ssh-prefix", "everything"}},
      {"nginx", "upstream timed out", {"everything", "timeout"}},
      {"nginx", "ok", {"everything"}},
      {"", "", {}},
  };
  for (const test_case& c : cases) {
    event ev;
    ev.app = c.app;
    ev.message = c.message;
    EXPECT_EQ(names(rules, ev), c.expected) << c.app << " / " << c.message;
  }
}

TEST(matcher, all_patterns_of_a_rule_must_match) {
  const compiled_rules rules({
      make_rule("ssh", {{"app", "^sshd$"}, {"message", "Failed password"}, {"host", "^web"}}),
      make_rule("ssh-any-host", {{"app", "^sshd$"}, {"message", "Failed password"}}),
  });
  struct test_case {
    const char* host;
    const char* app;
    const char* message;
    std::vector<std::string> expected;
  };
  const std::vector<test_case> cases = {
      {"web1", "sshd", "Failed password for root", {"ssh", "ssh-any-host"}},
      {"db1", "sshd", "Failed password for root", {"ssh-any-host"}},
      {"web1", "sshd", "Accepted password for root", {}},
      {"web1", "nginx", "Failed password for root", {}},
      {"web1", "sshd-session", "Failed password for root", {}},
  };
  for (const test_case& c : cases) {
    event ev;
    ev.host = c.host;
    ev.app = c.app;
    ev.message = c.message;
    EXPECT_EQ(names(rules, ev), c.expected) << c.host << " " << c.app << " " << c.message;
  }
}

TEST(matcher, a_rule_on_an_absent_field_never_matches) {
  const compiled_rules rules({
      make_rule("procid-any", {{"procid", ""}}),
      make_rule("msgid-dotstar", {{"msgid", ".*"}}),
      make_rule("severity-any", {{"severity", ".*"}}),
      make_rule("field-any", {{"fields.user", ".*"}}),
      make_rule("sd-any", {{"sd.meta.seq", ".*"}}),
      make_rule("message", {{"message", "x"}}),
  });
  event ev;
  ev.message = "x";
  EXPECT_THAT(names(rules, ev), ElementsAre("message"));

  ev.procid = "42";
  ev.msgid = "ID47";
  ev.severity = 7;
  ev.fields = {{"user", "root"}};
  const std::string line = "<14>1 - - - - - [meta seq=\"1\"] x";
  const event with_sd = decode(line);
  ev.sd = with_sd.sd;
  EXPECT_THAT(names(rules, ev), ElementsAre("procid-any", "msgid-dotstar", "severity-any",
                                            "field-any", "sd-any", "message"));
}

TEST(matcher, min_severity_keeps_that_level_and_worse) {
  const compiled_rules rules({
      make_rule("err-or-worse", {{"message", "oops"}}, 3),
      make_rule("any-level", {{"message", "oops"}}),
      make_rule("emerg-only", {{"message", "oops"}}, 0),
  });
  struct test_case {
    int severity;
    std::vector<std::string> expected;
  };
  const std::vector<test_case> cases = {
      {0, {"err-or-worse", "any-level", "emerg-only"}},
      {2, {"err-or-worse", "any-level"}},
      {3, {"err-or-worse", "any-level"}},
      {4, {"any-level"}},
      {7, {"any-level"}},
      {-1, {"any-level"}},  // no severity: a level filter cannot hold
  };
  for (const test_case& c : cases) {
    event ev;
    ev.message = "oops";
    ev.severity = c.severity;
    EXPECT_EQ(names(rules, ev), c.expected) << c.severity;
  }
}

TEST(matcher, named_captures_from_every_pattern_in_pattern_order) {
  const compiled_rules rules({
      make_rule(
          "ssh",
          {{"message",
            R"(Failed password for (invalid user )?(?P<user>\S+) from (?P<src_ip>[0-9.]+)(?: port (?P<port>\d+))?)"},
           {"app", "^(?P<daemon>[a-z]+)d$"}}),
      make_rule("no-groups", {{"message", "(Failed) (password)"}}),
      make_rule("empty-group", {{"message", "for (?P<empty>x*)(?P<user>\\S+)"}}),
  });
  struct test_case {
    const char* message;
    std::vector<std::pair<std::string, captures>> expected;
  };
  const std::vector<test_case> cases = {
      {"Failed password for invalid user admin from 203.0.113.9 port 52212 ssh2",
       {{"ssh",
         {{"user", "admin"}, {"src_ip", "203.0.113.9"}, {"port", "52212"}, {"daemon", "ssh"}}},
        {"no-groups", {}},
        {"empty-group", {{"empty", ""}, {"user", "invalid"}}}}},
      // `port` does not take part: it is left out, not reported empty.
      {"Failed password for root from 10.0.0.1",
       {{"ssh", {{"user", "root"}, {"src_ip", "10.0.0.1"}, {"daemon", "ssh"}}},
        {"no-groups", {}},
        {"empty-group", {{"empty", ""}, {"user", "root"}}}}},
  };
  for (const test_case& c : cases) {
    event ev;
    ev.app = "sshd";
    ev.message = c.message;
    EXPECT_EQ(run(rules, ev), c.expected) << c.message;
  }
}

TEST(matcher, field_value) {
  const std::string line =
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 8710 ID47 "
      R"([exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"])"
      R"([origin.x@32473.1 ip="10.0.0.1"][esc a="q\"b\]c\\d\x"][empty] An application event)";
  event ev = decode(line);
  ev.input = "syslog-tcp";
  ev.source = "127.0.0.1:40112";
  ev.fields = nlohmann::json::parse(
      R"({"user_id":9001,"neg":-3,"big":18446744073709551615,"ratio":1.5,"ok":true,)"
      R"("name":"bob","empty":"","none":null,"obj":{"a":[1,2]},"a.b":"dotted"})");

  struct test_case {
    const char* field;
    bool present;
    const char* value;
  };
  const std::vector<test_case> cases = {
      {"message", true, "An application event"},
      {"host", true, "mymachine.example.com"},
      {"app", true, "evntslog"},
      {"procid", true, "8710"},
      {"msgid", true, "ID47"},
      {"facility", true, "local4"},
      {"severity", true, "notice"},
      {"input", true, "syslog-tcp"},
      {"source", true, "127.0.0.1:40112"},
      {"format", true, "rfc5424"},
      {"fields.user_id", true, "9001"},
      {"fields.neg", true, "-3"},
      {"fields.big", true, "18446744073709551615"},
      {"fields.ratio", true, "1.5"},
      {"fields.ok", true, "true"},
      {"fields.name", true, "bob"},
      {"fields.empty", true, ""},
      {"fields.none", false, ""},
      {"fields.obj", true, R"({"a":[1,2]})"},
      {"fields.a.b", true, "dotted"},
      {"fields.missing", false, ""},
      {"sd.exampleSDID@32473.iut", true, "3"},
      {"sd.exampleSDID@32473.eventID", true, "1011"},
      {"sd.origin.x@32473.1.ip", true, "10.0.0.1"},  // dots in the SD-ID
      {"sd.esc.a", true, R"(q"b]c\d\x)"},            // \" \] \\ resolved, \x kept
      {"sd.exampleSDID@32473.missing", false, ""},
      {"sd.empty.x", false, ""},
      {"sd.exampleSDID.iut", false, ""},
      {"timestamp", false, ""},
      {"nonsense", false, ""},
  };
  for (const test_case& c : cases) {
    std::string value = "stale";
    EXPECT_EQ(compiled_rules::field_value(ev, c.field, value), c.present) << c.field;
    if (c.present) EXPECT_EQ(value, c.value) << c.field;
  }

  // An event without any of the optional fields.
  const event bare;
  std::string value;
  for (const char* field : {"message", "host", "app", "procid", "msgid", "facility", "severity",
                            "input", "source", "format", "fields.x", "sd.a.b"}) {
    EXPECT_FALSE(compiled_rules::field_value(bare, field, value)) << field;
  }
}

TEST(matcher, fields_and_sd_and_names) {
  const std::string line =
      R"(<11>1 - web1 app - - [req@32473 status="503" path="/a\]b"] upstream failed)";
  event ev = decode(line);
  ev.fields = {{"user_id", 9001}, {"latency", 2.5}, {"admin", false}};
  const compiled_rules rules({
      make_rule("user-9001", {{"fields.user_id", "^9001$"}}),
      make_rule("user-900", {{"fields.user_id", "^900$"}}),
      make_rule("slow", {{"fields.latency", R"(^[2-9]\.)"}}),
      make_rule("not-admin", {{"fields.admin", "^false$"}}),
      make_rule("status-5xx", {{"sd.req@32473.status", "^5(?P<rest>\\d\\d)$"}}),
      make_rule("path-unescaped", {{"sd.req@32473.path", R"(^/a\]b$)"}}),
      make_rule("by-severity-name", {{"severity", "^err$"}, {"facility", "^user$"}}),
      make_rule("by-number-fails", {{"severity", "^3$"}}),
  });
  EXPECT_EQ(run(rules, ev),
            (std::vector<std::pair<std::string, captures>>{{"user-9001", {}},
                                                           {"slow", {}},
                                                           {"not-admin", {}},
                                                           {"status-5xx", {{"rest", "03"}}},
                                                           {"path-unescaped", {}},
                                                           {"by-severity-name", {}}}));
}

TEST(matcher, bad_patterns_are_reported_with_their_place) {
  rule_definition bad = make_rule("bad", {{"message", "a(b"}, {"app", "ok"}, {"host", "[z-a]"}});
  bad.match[0].where = {"r.yaml", 3, 23};
  bad.match[2].where = {"r.yaml", 4, 12};
  rule_definition unknown = make_rule("unknown", {{"mesage", "x"}});
  rule_definition empty = make_rule("empty", {});
  std::vector<rule_definition> defs;
  defs.push_back(make_rule("fine", {{"message", "x"}}));
  defs.push_back(bad);
  defs.push_back(unknown);
  defs.push_back(empty);
  try {
    compiled_rules rules(std::move(defs));
    FAIL() << "no error";
  } catch (const config::config_error& e) {
    EXPECT_THAT(e.errors(),
                ElementsAre("r.yaml:3:23: rule bad: match.message: missing ): a(b",
                            "r.yaml:4:12: rule bad: match.host: invalid character class "
                            "range: z-a",
                            "rule unknown: match.mesage: unknown field",
                            "rule empty: match must not be empty"));
  }
}

TEST(matcher, results_are_appended) {
  const compiled_rules rules({make_rule("a", {{"message", "x"}})});
  event ev;
  ev.message = "x";
  std::vector<rule_match> out(1);
  rules.match(ev, out);
  rules.match(ev, out);
  EXPECT_EQ(out.size(), 3u);
}

// --- the set against a naive loop ------------------------------------------------------------

// Rule-by-rule evaluation, the way other log processors do it.
class naive_matcher {
 public:
  explicit naive_matcher(const std::vector<rule_definition>& defs) : defs_(defs) {
    for (const rule_definition& def : defs_) {
      auto& res = regexes_.emplace_back();
      for (const field_pattern& p : def.match) res.push_back(std::make_unique<RE2>(p.pattern));
    }
  }

  std::vector<std::pair<std::string, captures>> run(const event& ev) const {
    std::vector<std::pair<std::string, captures>> out;
    for (std::size_t r = 0; r < defs_.size(); ++r) {
      const rule_definition& def = defs_[r];
      bool ok = true;
      captures caps;
      for (std::size_t i = 0; i < def.match.size() && ok; ++i) {
        std::string text;
        if (!compiled_rules::field_value(ev, def.match[i].field, text)) {
          ok = false;
          break;
        }
        const RE2& re = *regexes_[r][i];
        std::vector<re2::StringPiece> groups(
            static_cast<std::size_t>(re.NumberOfCapturingGroups()) + 1);
        if (!re.Match(text, 0, text.size(), RE2::UNANCHORED, groups.data(),
                      static_cast<int>(groups.size()))) {
          ok = false;
          break;
        }
        std::vector<std::pair<int, std::string>> named;
        for (const auto& [name, index] : re.NamedCapturingGroups()) named.emplace_back(index, name);
        std::sort(named.begin(), named.end());
        for (const auto& [index, name] : named) {
          const auto& g = groups[static_cast<std::size_t>(index)];
          if (g.data() != nullptr) caps.emplace_back(name, std::string(g.data(), g.size()));
        }
      }
      if (ok && def.min_severity >= 0 && (ev.severity < 0 || ev.severity > def.min_severity)) {
        ok = false;
      }
      if (ok) out.emplace_back(def.name, std::move(caps));
    }
    return out;
  }

 private:
  const std::vector<rule_definition>& defs_;
  std::vector<std::vector<std::unique_ptr<RE2>>> regexes_;
};

// An event owning its text, so views stay valid.
struct owned_event {
  std::string host, app, message;
  event ev;
};

TEST(matcher, thousand_rules_agree_with_a_naive_loop) {
  std::mt19937 rng(20261126);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };

  std::vector<rule_definition> defs;
  for (int i = 0; i < 1000; ++i) {
    const std::string n = std::to_string(i);
    switch (i % 8) {
      case 0:
      case 1:
      case 2:
        defs.push_back(
            make_rule("service-" + n, {{"message", "service-" + n + R"( failed: (?P<code>\d+))"}}));
        break;
      case 3:
        defs.push_back(make_rule("app-" + n, {{"app", "^app-" + std::to_string(i % 50) + "$"}}));
        break;
      case 4:
        defs.push_back(make_rule("combo-" + n,
                                 {{"app", "^app-" + std::to_string(i % 50) + "$"},
                                  {"message", "(?P<word>user|disk) " + std::to_string(i % 7)}},
                                 i % 5 == 0 ? 3 : -1));
        break;
      case 5:
        defs.push_back(make_rule("host-" + n, {{"host", "^web-" + std::to_string(i % 20) + R"(\b)"},
                                               {"message", "(?i)ERROR"}}));
        break;
      case 6:
        defs.push_back(
            make_rule("field-" + n, {{"fields.code", "^" + std::to_string(i % 30) + "$"}}));
        break;
      case 7:
        defs.push_back(make_rule(
            "sev-" + n,
            {{"severity", i % 16 == 7 ? "^(err|crit)$" : "warn"}, {"message", "(?P<n>[0-9]+)$"}},
            i % 3 == 0 ? 4 : -1));
        break;
    }
  }
  const compiled_rules rules(defs);

  const char* words[] = {"user", "disk", "error", "ERROR", "failed:", "ok", "service-", "7"};
  std::vector<std::unique_ptr<owned_event>> events;
  for (int e = 0; e < 3000; ++e) {
    auto o = std::make_unique<owned_event>();
    if (pick(10) > 0) o->host = "web-" + std::to_string(pick(25));
    if (pick(10) > 0) o->app = "app-" + std::to_string(pick(60));
    switch (pick(4)) {
      case 0:
        o->message =
            "service-" + std::to_string(pick(1100)) + " failed: " + std::to_string(pick(500));
        break;
      case 1:
        o->message =
            std::string(words[pick(8)]) + " " + std::to_string(pick(9)) + " " + words[pick(8)];
        break;
      case 2:
        for (int w = pick(12); w >= 0; --w)
          o->message += std::string(words[pick(8)]) + (pick(2) ? " " : "");
        break;
      default:
        o->message = "x" + std::to_string(pick(100000));
    }
    o->ev.host = o->host;
    o->ev.app = o->app;
    o->ev.message = o->message;
    o->ev.severity = pick(9) - 1;
    if (pick(3) == 0)
      o->ev.fields = {
          {"code", pick(2) ? nlohmann::json(pick(40)) : nlohmann::json(std::to_string(pick(40)))}};
    events.push_back(std::move(o));
  }

  const naive_matcher naive(defs);
  std::vector<std::vector<std::pair<std::string, captures>>> expected_all;
  std::size_t matched_events = 0, total_matches = 0;
  for (const auto& o : events) {
    const auto& expected = expected_all.emplace_back(naive.run(o->ev));
    ASSERT_EQ(run(rules, o->ev), expected) << o->host << " | " << o->app << " | " << o->message;
    matched_events += expected.empty() ? 0 : 1;
    total_matches += expected.size();
  }
  // The random events must exercise the interesting cases, not just miss everything.
  EXPECT_GT(matched_events, 1000u);
  EXPECT_GT(total_matches, 3000u);
  EXPECT_EQ(rules.set_fallbacks(), 0u);

  // Matching is const and thread-safe: every thread sees the same results.
  std::vector<std::vector<std::vector<std::pair<std::string, captures>>>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& results : per_thread) {
    threads.emplace_back([&] {
      for (const auto& o : events) results.push_back(run(rules, o->ev));
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& results : per_thread) {
    ASSERT_EQ(results.size(), events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(results[i], expected_all[i]) << i;
    }
  }
}

}  // namespace
}  // namespace tocsin::rules
