#pragma once
// Typed configuration (DESIGN.md, "Config (YAML, v1 schema)") and its loader.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tocsin::config {

using duration = std::chrono::milliseconds;

// Where a value came from, for FILE:LINE:COL messages. Line and column are 1-based.
struct source_location {
  std::string file;
  int line = 0;
  int column = 0;
};

// "FILE:LINE:COL: ", the prefix of every config and rule error; "" for an unknown location.
std::string location_prefix(const source_location& where);

// A host:port pair as written (`0.0.0.0:5514`, `[::1]:9095`, `localhost:80`).
struct endpoint {
  std::string host;
  std::uint16_t port = 0;
  bool operator==(const endpoint&) const = default;
};

struct tls_config {
  std::string cert, key, ca;
  std::string client_auth = "none";  // none | optional | required
  std::vector<std::string> permitted_peers;
  bool operator==(const tls_config&) const = default;
};

enum class input_type { syslog, gelf };
enum class transport { udp, tcp, tls, http, relp };
enum class syslog_format { auto_detect, rfc5424, rfc3164 };

struct input_config {
  std::string name;
  input_type type = input_type::syslog;
  transport transport_kind = transport::udp;
  endpoint listen;
  syslog_format format = syslog_format::auto_detect;  // key `format`, syslog only
  std::string timezone = "local";  // key `timezone`: zone for RFC 3164 timestamps
  std::optional<tls_config> tls;
  // Key `proxy_protocol` (tcp, tls, http): every connection starts with a HAProxy PROXY v1/v2
  // header from a load balancer; the sender it names is the event's `source` and is what
  // per-source limits count. A connection without a valid header is refused.
  bool proxy_protocol = false;
  // Key `receive_buffer` (udp): the SO_RCVBUF each shard's socket asks for. Datagrams that
  // arrive while it is full are lost in the kernel, so it must hold a burst; the kernel caps it
  // at net.core.rmem_max unless tocsin may force it (CAP_NET_ADMIN).
  std::size_t receive_buffer = std::size_t{8} << 20;
  source_location where;
};

struct limits_config {
  bool operator==(const limits_config&) const = default;
  std::size_t max_message_bytes = 65536;
  std::size_t max_connections = 1024;
  duration idle_timeout = std::chrono::minutes(5);
  // Per sender IP address, over every input (0: off). Over the rate, UDP datagrams are dropped
  // and stream connections stop reading until tokens are back.
  std::uint64_t per_source_rate = 0;  // messages per second
  std::uint64_t burst = 0;            // token bucket size; 0: per_source_rate (one second's worth)
  std::size_t max_connections_per_source = 64;  // 0: no cap
  // Bytes of incomplete chunked GELF messages one source may have in flight (GELF UDP inputs);
  // chunks beyond it are refused, so one sender's junk cannot evict another's messages.
  std::size_t gelf_chunk_bytes_per_source = std::size_t{4} << 20;
};

enum class output_type { file, kafka };

struct output_config {
  output_type type = output_type::file;
  std::string path;   // file: path template with {host} {app} {date}
  std::string topic;  // kafka
  // file: descriptors held open at once (least recently written closed first), and the new
  // {host}/{app} paths a minute may open; events beyond it go to {host}/{app} = `_overflow`.
  std::size_t max_open_files = 1024;
  std::size_t max_new_paths_per_minute = 600;
  source_location where;
};

struct admin_config {
  endpoint listen{"127.0.0.1", 9095};
  std::string token_file;  // bearer token for everything but /healthz; "" = no auth
  source_location token_file_where;
  // A non-loopback `listen` without `token_file` is a config error unless this is set.
  bool insecure = false;
  // Open connections at most; a connection beyond it is closed at once and counted.
  std::size_t max_connections = 64;
  // How people reach the admin listener (links in notifications and pages: webhook
  // externalURL, ack links), e.g. behind a proxy; default http(s)://<listen>.
  std::string external_url;
  // `tls: { cert, key }`: admin, API and UI over HTTPS only. Paths as written (relative to the
  // config file's directory); `tls_where` for messages about them.
  std::optional<tls_config> tls;
  source_location tls_where;
};

// The top-level `router:` section.
struct router_config {
  // Alerts the router holds at most (firing, and resolved ones not yet sent); new alerts beyond
  // it are refused and counted (tocsin_router_alerts_refused_total{reason="max_alerts"}).
  std::size_t max_alerts = 100'000;
};

// One of the topics tocsin creates at start (DESIGN.md "Scale-out"): a topic that does not exist
// is created with these settings; one that exists must have the cleanup policy tocsin needs.
struct kafka_topic_config {
  std::string name;
  int partitions = 6;
  int replication_factor = -1;  // -1: the brokers' default.replication.factor
  // retention.ms of a topic tocsin creates that deletes by age (alerts, hits); 0: the brokers'
  // default. Must cover bus.kafka.rebuild_window.
  duration retention{0};
  source_location where;
};

struct kafka_config {
  std::string brokers;
  std::string topic = "tocsin.alerts";  // its settings are topics.alerts
  std::string group = "tocsin-router";
  std::map<std::string, std::string> properties;          // passed through to librdkafka
  std::map<std::string, source_location> property_where;  // where each property was written
  // Cap on the disk spool (data_dir/spool) of alerts Kafka could not take. When it is full, new
  // alerts are refused and counted (tocsin_bus_errors_total{reason="spool_full"}).
  std::uint64_t spool_max_bytes = std::uint64_t{1} << 30;
  // How far back a starting router reads the alerts topic to rebuild its state.
  duration rebuild_window = std::chrono::minutes(10);
  // bus.kafka.topics.{alerts,silences,nflog,hits,oncall}: alerts' name is `topic`; silences and the
  // notification log are compacted (key = silence id, group key); hits carry the collectors'
  // counts of cluster-wide rule windows (key = rule + group).
  kafka_topic_config alerts_topic{"", 6, -1, std::chrono::hours(24)};
  kafka_topic_config silences_topic{"tocsin.silences", 1};
  kafka_topic_config nflog_topic{"tocsin.nflog", 6};
  kafka_topic_config hits_topic{"tocsin.hits", 6, -1, std::chrono::hours(1)};
  // Compacted (key = receiver + '\n' + group key): each paged group's escalation, so the router
  // that takes a group over goes on with its escalation (DESIGN.md "On-call").
  kafka_topic_config oncall_topic{"tocsin.oncall", 6};
  source_location where;
};

struct bus_config {
  std::string type = "embedded";  // embedded | kafka
  kafka_config kafka;
};

// One node of the route tree (Alertmanager semantics). Unset fields inherit from the parent.
struct route_config {
  std::string receiver;
  std::optional<std::vector<std::string>> group_by;
  std::optional<duration> group_wait, group_interval, repeat_interval;
  // Every matcher of the route, all of which must match, in Alertmanager's syntax
  // (config/matcher_syntax.hpp). Loaded from a file: one matcher per element as Alertmanager
  // prints it (`severity="critical"`), from `match` (label: value), then `match_re` (label: regex,
  // kept anchored as Alertmanager keeps it: `host=~"^(?:web.*)$"`), then each matcher of each
  // `matchers` item (`'{a="b",c=~"d"}'` holds two). Built in code, an element may hold a whole
  // item.
  std::vector<std::string> matchers;
  bool continue_matching = false;  // key `continue`
  // Key `escalation`: the name of an oncall.escalation_policies entry that pages a person for
  // each group of this route ("" none; inherited by child routes that set none).
  std::optional<std::string> escalation;
  // Names of `time_intervals` entries (Alertmanager's): the route sends nothing while any of
  // `mute_time_intervals` holds, nor while none of `active_time_intervals` does (when it has
  // any). Not inherited by child routes, as in Alertmanager; the root may have neither.
  std::vector<std::string> mute_time_intervals, active_time_intervals;
  std::vector<source_location> mute_time_interval_where, active_time_interval_where;
  std::vector<route_config> routes;
  source_location where;
  // Where each element of `matchers` was written (its item or `match` key), for errors about it;
  // may be shorter (routes built in code), then `where` is used.
  std::vector<source_location> matcher_where;
};

// One inclusive range of a time interval's field, as Alertmanager's InclusiveRange: weekdays
// 0 (Sunday) … 6, days of the month 1 … 31 or -31 … -1 (counted from the month's end), months
// 1 … 12, years.
struct inclusive_range {
  int begin = 0;
  int end = 0;
  bool operator==(const inclusive_range&) const = default;
};

// Minutes since local midnight, [start_minute, end_minute): `times: [{start_time: "09:00",
// end_time: "17:00"}]`; end_minute may be 1440 (24:00).
struct minute_range {
  int start_minute = 0;
  int end_minute = 0;
  bool operator==(const minute_range&) const = default;
};

// One entry of a named time interval (Alertmanager's TimeInterval): it holds a time when every
// field that is given holds it; a field given as an empty list holds nothing.
struct time_interval_entry {
  std::optional<std::vector<minute_range>> times;
  std::optional<std::vector<inclusive_range>> weekdays, days_of_month, months, years;
  std::string location = "UTC";  // key `location`: an IANA zone, UTC or Local
  source_location where;
};

// `time_intervals: [{name, time_intervals: [...]}]` (also read from the deprecated top-level
// `mute_time_intervals:`): holds a time when any of its entries does.
struct time_interval_config {
  std::string name;
  std::vector<time_interval_entry> entries;  // key `time_intervals`
  source_location where;
};

// Like route_config::matchers: `source_match`, `source_match_re` and `source_matchers` all end up
// in source_matchers (the same for target_*), each element's location in *_matcher_where.
struct inhibit_rule_config {
  std::vector<std::string> source_matchers, target_matchers, equal;
  source_location where;
  std::vector<source_location> source_matcher_where, target_matcher_where;
};

struct receiver_section;  // config/yaml_reader.hpp; read through config/section_reader.hpp

// What every receiver shares from the top level: Alertmanager's `global:` section (defaults the
// integrations written in Alertmanager's syntax fall back on: `smtp_*` for email,
// `slack_api_url`, `opsgenie_api_*`, `telegram_api_url`, `http_config` …, and
// `resolve_timeout`) and the `templates:` files. Secrets given as `*_file` are read at load.
struct global_config {
  // The `templates:` globs, relative ones made absolute against the config file's folder.
  std::vector<std::string> templates;
  duration resolve_timeout = std::chrono::minutes(5);
  std::string smtp_smarthost, smtp_from, smtp_hello;
  std::string smtp_auth_username, smtp_auth_password, smtp_auth_identity, smtp_auth_secret;
  std::optional<bool> smtp_require_tls;
  std::string slack_api_url, pagerduty_url, opsgenie_api_url, opsgenie_api_key, telegram_api_url;
  std::shared_ptr<const receiver_section> http_config;  // null when not given
};

// Which spelling an integration was written in: tocsin's one-integration `slack: {…}` keys, or
// an element of an Alertmanager `slack_configs: [ … ]` list, with Alertmanager's field names
// and defaults (and `global:` behind them).
enum class receiver_syntax { tocsin, alertmanager };

// One integration of a receiver, whose section is kept as written: the integration's factory
// (sinks/notifier.hpp) reads and checks it, so each integration owns its schema and
// check-config is a dry run of construction. config::receivers holds one entry per integration,
// in the order written, each with its receiver's name (a receiver with several integrations
// notifies through each); a receiver without any is one entry with an empty `integration`.
struct receiver_config {
  std::string name;
  std::string integration;  // the integration's key: "" (drops), slack, email, webhook, …
  std::shared_ptr<const receiver_section> section;  // null: no settings (receivers built in code)
  source_location where;
  receiver_syntax syntax = receiver_syntax::tocsin;
  std::shared_ptr<const global_config> global;  // null: the defaults
};

// The `oncall:` section (DESIGN.md, "On-call"): people, who of them is on call when, and whom an
// unacknowledged alert pages next.
struct oncall_user {
  std::string name;
  std::string email;     // where an email receiver's page goes
  std::string slack;     // Slack member id: a Slack page mentions <@ID>
  std::string telegram;  // Telegram chat id
  // A file holding this user's API token: an ack made with it is this user's.
  std::string token_file;
  source_location where;
};

// A local wall-clock range `HH:MM-HH:MM` (minutes since midnight) that may cross midnight.
struct time_of_day_range {
  int begin_minute = 0;
  int end_minute = 0;  // begin == end: the whole day
};

// Where a layer is active: in any of `times` (all day when empty) on any of `weekdays` (every
// day when empty; 0 = Sunday … 6 = Saturday).
struct oncall_restriction {
  std::vector<time_of_day_range> times;
  std::vector<int> weekdays;
};

enum class rotation_unit { hours, days, weeks };

struct oncall_layer {
  std::string name;
  std::chrono::local_seconds start{};  // local civil time in the schedule's time_zone
  int rotation_count = 1;              // key `rotation`: `1w`, `1d`, `12h`
  rotation_unit rotation = rotation_unit::weeks;
  std::vector<std::string> users;
  std::optional<oncall_restriction> restrict;  // key `restrict`
  source_location where;
};

// A dated replacement: `user` is on call over [start, end) local time, above every layer.
struct oncall_override {
  std::string user;
  std::chrono::local_seconds start{}, end{};
  source_location where;
};

struct oncall_schedule {
  std::string name;
  std::string time_zone = "UTC";  // an IANA zone; layers and overrides are local to it
  std::vector<oncall_layer> layers;
  std::vector<oncall_override> overrides;
  // Key `ics`: an iCalendar file whose events name the user on call (SUMMARY), instead of
  // layers; resolved against the config file's folder, re-read on reload.
  std::filesystem::path ics;
  source_location where;
};

struct escalation_target {
  std::string schedule;  // the person on call in this schedule …
  std::string user;      // … or this user
};

struct escalation_step {
  duration after{0};  // after the previous step's page (step 1: after the first notification)
  std::vector<escalation_target> notify;
  source_location where;
};

struct escalation_policy {
  std::string name;
  std::vector<escalation_step> steps;
  int repeat = 0;                        // run the steps this many times more
  std::optional<duration> repeat_after;  // default: the last step's `after`
  source_location where;
};

struct oncall_config {
  std::vector<oncall_user> users;
  std::vector<oncall_schedule> schedules;
  std::vector<escalation_policy> escalation_policies;
  // The HMAC key of the ack links in pages; the same file on every router. "" = links are
  // signed with a key made at start (they stop working across a restart).
  std::string signing_key_file;
  source_location where;
};

struct config {
  std::filesystem::path file;  // the file it was loaded from (rules_files resolve against it)
  std::string node_name;       // default: hostname
  std::filesystem::path data_dir = "./var/lib";
  // How long SIGTERM waits for queues to drain (outputs, bus, receivers) before exiting.
  duration shutdown_timeout = std::chrono::seconds(10);
  std::optional<admin_config> admin;  // admin listener starts only when configured
  router_config router;
  std::vector<input_config> inputs;
  limits_config limits;
  std::vector<output_config> outputs;
  bus_config bus;
  std::vector<std::string> rules_files;
  std::optional<route_config> route;
  std::vector<inhibit_rule_config> inhibit_rules;
  std::vector<receiver_config> receivers;  // one entry per integration (receiver_config)
  std::shared_ptr<const global_config> global = std::make_shared<const global_config>();
  // `time_intervals` and the deprecated `mute_time_intervals`, in the order written.
  std::vector<time_interval_config> time_intervals;
  oncall_config oncall;
};

// Every problem found in a config, each formatted `FILE:LINE:COL: message`.
class config_error : public std::runtime_error {
 public:
  explicit config_error(std::vector<std::string> errors);
  [[nodiscard]] const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::vector<std::string> errors_;
};

// Loads and validates a config file. Throws config_error listing every error found (not just
// the first), or config_error with one message when the file cannot be read or parsed.
config load_file(const std::filesystem::path& file);

// Same, from text; `file_name` is used in messages.
config load_string(const std::string& yaml, const std::filesystem::path& file_name);

// For check-config, which reports every problem in one run: the config as far as it could be
// read (invalid values left at their defaults) and the errors. Still throws config_error when
// the file cannot be read or is not YAML.
struct loaded {
  config cfg;
  std::vector<std::string> errors;
};
loaded load_file_with_errors(const std::filesystem::path& file);
loaded load_string_with_errors(const std::string& yaml, const std::filesystem::path& file_name);

// config::receivers by receiver: each span is one receiver's entries (the loader writes them
// next to each other), in the order written.
std::vector<std::span<const receiver_config>> receivers_by_name(
    const std::vector<receiver_config>& receivers);

// Parses a Go/Prometheus duration (`500ms`, `10s`, `5m`, `4h`, `1h30m`, `1d`); nullopt if invalid.
std::optional<duration> parse_duration(std::string_view text);

// Parses `host:port` / `[v6]:port`; nullopt if invalid. The host is kept without brackets;
// port 0 is valid (the OS picks a free port, which tests use).
std::optional<endpoint> parse_endpoint(std::string_view text);

// `host:port`, with brackets around an IPv6 host: the form parse_endpoint() reads.
std::string to_string(const endpoint& e);

}  // namespace tocsin::config
