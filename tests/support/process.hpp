#pragma once
// Starting real programs (the tocsin binary, logger, rsyslogd, python3) from tests.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tocsin::test {

using namespace std::chrono_literals;

// NAME=VALUE pairs added to (or replacing in) the test's own environment.
using env_list = std::vector<std::pair<std::string, std::string>>;

struct process_options {
  env_list env;
  std::filesystem::path stdout_path;  // empty: inherit the test's stdout
  std::filesystem::path stderr_path;  // empty: inherit the test's stderr
  std::filesystem::path cwd;          // empty: the test's working directory
};

// Exit statuses are reported the way a shell does: the exit code, or 128 + signal number when
// the process was killed by a signal (so SIGTERM is 143 and SIGKILL 137).

// A child process started with fork/exec. It gets SIGKILL if the test process dies, and the
// destructor kills and reaps it if it is still running, so no test leaves a daemon behind.
class child_process {
 public:
  // argv[0] without a '/' is looked up with find_program(). Throws std::runtime_error when the
  // program cannot be started (not found, not executable, output file not writable).
  explicit child_process(std::vector<std::string> argv, process_options options = {});
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] bool running();  // reaps the child if it has exited
  void signal(int sig);          // e.g. SIGHUP; no-op once it has exited
  // SIGTERM, then SIGKILL if it has not exited within `grace`; returns the exit status.
  int stop(std::chrono::milliseconds grace = 10s);
  int kill9();  // SIGKILL; returns the exit status
  int wait();   // blocks until it exits; returns the exit status
  // The exit status, or nullopt if it still runs after `timeout`.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

 private:
  void reap(int raw_status);

  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct command_result {
  int exit_code = -1;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs argv to completion with `stdin_text` on its stdin and returns what it wrote. A command
// still running after `timeout` is killed (exit_code 137). options.stdout_path/stderr_path are
// ignored: output is always captured.
command_result run_command(const std::vector<std::string>& argv, std::string_view stdin_text = {},
                           const process_options& options = {},
                           std::chrono::milliseconds timeout = 60s);

// Whether process `pid` has `file` open: one of its /proc/PID/fd links points to it. For waiting
// until a daemon has closed (or opened) a file, e.g. after a SIGHUP asked it to reopen its logs.
bool has_open_file(pid_t pid, const std::filesystem::path& file);

// Full path of an executable: `name` itself when it contains a '/', else the first match in
// /usr/bin, /bin, /usr/sbin, /sbin (so "python3" is Debian's, whose modules graypy and aiosmtpd
// import, not a pyenv shim; "rsyslogd" is found although /usr/sbin is not on a user's PATH), then
// $PATH. Empty when not found.
std::filesystem::path find_program(std::string_view name);

}  // namespace tocsin::test
