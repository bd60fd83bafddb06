#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <tuple>

extern char** environ;

namespace tocsin::test {

namespace {

int to_exit_status(int raw) {
  if (WIFEXITED(raw)) return WEXITSTATUS(raw);
  if (WIFSIGNALED(raw)) return 128 + WTERMSIG(raw);
  return -1;
}

std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

std::vector<std::string> build_environment(const env_list& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view kv(*e);
    const std::string_view name = kv.substr(0, kv.find('='));
    bool replaced = false;
    for (const auto& [k, v] : extra) replaced = replaced || k == name;
    if (!replaced) env.emplace_back(kv);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// fds to put on the child's stdin/stdout/stderr; -1 inherits the test's.
struct child_fds {
  int in = -1;
  int out = -1;
  int err = -1;
};

// fork + execve. Everything the child needs is prepared before fork(), because in a
// multi-threaded parent the child may only make async-signal-safe calls until exec.
pid_t spawn(const std::vector<std::string>& argv, const process_options& options, child_fds fds) {
  if (argv.empty()) throw std::invalid_argument("spawn: empty argv");
  const std::filesystem::path exe = find_program(argv[0]);
  if (exe.empty()) throw std::runtime_error("program not found: " + argv[0]);
  const std::string exe_str = exe.string();
  std::vector<std::string> args = argv;
  std::vector<std::string> env = build_environment(options.env);
  std::vector<char*> argv_c = c_strings(args);
  std::vector<char*> envp_c = c_strings(env);
  const std::string cwd = options.cwd.string();

  // The child reports a failed exec through this pipe; a successful exec closes it (CLOEXEC).
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) throw sys_error("pipe2");
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(report[0]);
    ::close(report[1]);
    throw sys_error("fork");
  }
  if (pid == 0) {
    // Die with the test process (a crashed or timed-out test must not leave a daemon on a port).
    // Note: the signal comes when the forking *thread* exits, so spawn from a long-lived thread.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    // Ignored signals and the signal mask survive exec; give the program a clean slate.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if ((fds.in >= 0 && ::dup2(fds.in, 0) < 0) || (fds.out >= 0 && ::dup2(fds.out, 1) < 0) ||
        (fds.err >= 0 && ::dup2(fds.err, 2) < 0) || (!cwd.empty() && ::chdir(cwd.c_str()) != 0)) {
      const int e = errno;
      (void)!::write(report[1], &e, sizeof e);
      ::_exit(127);
    }
    ::execve(exe_str.c_str(), argv_c.data(), envp_c.data());
    const int e = errno;
    (void)!::write(report[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(report[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int raw;
    ::waitpid(pid, &raw, 0);
    throw std::runtime_error("cannot start " + exe_str + ": " + std::strerror(child_errno));
  }
  return pid;
}

int open_output(const std::filesystem::path& p) {
  if (p.empty()) return -1;
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw sys_error("open " + p.string());
  return fd;
}

}  // namespace

child_process::child_process(std::vector<std::string> argv, process_options options) {
  const int out = open_output(options.stdout_path);
  int err = -1;
  try {
    err = options.stderr_path == options.stdout_path ? -1 : open_output(options.stderr_path);
    const int err_fd = options.stderr_path.empty() ? -1 : (err >= 0 ? err : out);
    pid_ = spawn(argv, options, {-1, out, err_fd});
  } catch (...) {
    if (out >= 0) ::close(out);
    if (err >= 0) ::close(err);
    throw;
  }
  if (out >= 0) ::close(out);
  if (err >= 0) ::close(err);
}

child_process::~child_process() {
  if (pid_ > 0 && !status_) kill9();
}

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(std::exchange(other.status_, std::nullopt)) {}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !status_) kill9();
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

void child_process::reap(int raw_status) { status_ = to_exit_status(raw_status); }

bool child_process::running() {
  if (pid_ <= 0 || status_) return false;
  int raw = 0;
  const pid_t r = ::waitpid(pid_, &raw, WNOHANG);
  if (r == pid_) {
    reap(raw);
    return false;
  }
  if (r < 0 && errno != EINTR) {
    status_ = -1;  // not our child any more (cannot happen unless someone else reaped it)
    return false;
  }
  return true;
}

void child_process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

int child_process::wait() {
  if (pid_ <= 0) return -1;
  while (!status_) {
    int raw = 0;
    const pid_t r = ::waitpid(pid_, &raw, 0);
    if (r == pid_) {
      reap(raw);
    } else if (r < 0 && errno != EINTR) {
      status_ = -1;
    }
  }
  return *status_;
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
  return status_;
}

int child_process::stop(std::chrono::milliseconds grace) {
  if (!running()) return status_.value_or(-1);
  ::kill(pid_, SIGTERM);
  if (auto s = wait_for(grace)) return *s;
  ::kill(pid_, SIGKILL);
  return wait();
}

int child_process::kill9() {
  if (running()) ::kill(pid_, SIGKILL);
  return wait();
}

command_result run_command(const std::vector<std::string>& argv, std::string_view stdin_text,
                           const process_options& options, std::chrono::milliseconds timeout) {
  // Writing to a child that exited early must give EPIPE, not kill the test. Children get
  // SIGPIPE back to default in spawn().
  ::signal(SIGPIPE, SIG_IGN);

  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) throw sys_error("pipe2");
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    throw sys_error("pipe2");
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    throw sys_error("pipe2");
  }
  pid_t pid;
  try {
    pid = spawn(argv, options, {in[0], out[1], err[1]});
  } catch (...) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) ::close(fd);
    throw;
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);

  command_result result;
  int to_child = in[1];
  if (stdin_text.empty()) {
    ::close(to_child);
    to_child = -1;
  }
  int from_out = out[0];
  int from_err = err[0];
  for (int fd : {to_child, from_out, from_err}) {
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  char buf[65536];
  while (to_child >= 0 || from_out >= 0 || from_err >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[3] = {{to_child, POLLOUT, 0}, {from_out, POLLIN, 0}, {from_err, POLLIN, 0}};
    const int n = ::poll(fds, 3, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (to_child >= 0 && fds[0].revents != 0) {
      const ssize_t w = ::write(to_child, stdin_text.data(), stdin_text.size());
      if (w > 0) stdin_text.remove_prefix(static_cast<std::size_t>(w));
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || stdin_text.empty()) {
        ::close(to_child);  // EOF for the child (or it stopped reading)
        to_child = -1;
      }
    }
    for (auto [idx, fd, text] : {std::tuple{1, &from_out, &result.stdout_text},
                                 std::tuple{2, &from_err, &result.stderr_text}}) {
      if (*fd < 0 || fds[idx].revents == 0) continue;
      const ssize_t r = ::read(*fd, buf, sizeof buf);
      if (r > 0) {
        text->append(buf, static_cast<std::size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(*fd);
        *fd = -1;
      }
    }
  }
  for (int fd : {to_child, from_out, from_err}) {
    if (fd >= 0) ::close(fd);
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int raw = 0;
  while (::waitpid(pid, &raw, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = to_exit_status(raw);
  return result;
}

std::filesystem::path find_program(std::string_view name) {
  auto executable = [](const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  if (name.empty()) return {};
  if (name.find('/') != std::string_view::npos) {
    return executable(std::filesystem::path(name)) ? std::filesystem::path(name)
                                                   : std::filesystem::path();
  }
  std::vector<std::string> dirs = {"/usr/bin", "/bin", "/usr/sbin", "/sbin"};
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const auto dir = rest.substr(0, colon);
      if (!dir.empty()) dirs.emplace_back(dir);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  for (const auto& dir : dirs) {
    const auto candidate = std::filesystem::path(dir) / name;
    if (executable(candidate)) return candidate;
  }
  return {};
}

bool has_open_file(pid_t pid, const std::filesystem::path& file) {
  std::error_code ec;
  const auto wanted = std::filesystem::weakly_canonical(file, ec);
  const std::filesystem::path fds = "/proc/" + std::to_string(pid) + "/fd";
  for (auto it = std::filesystem::directory_iterator(fds, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::error_code link_ec;  // a descriptor may close while we look
    if (std::filesystem::read_symlink(it->path(), link_ec) == wanted) return true;
  }
  return false;
}

}  // namespace tocsin::test
