// The Debian package, built by cpack from this build tree: what it installs, its control data
// and maintainer scripts, and that what it installs works — the extracted binary accepts the
// extracted config, and systemd accepts the extracted units and sysusers file. Nothing is
// installed on this machine (no dpkg -i): everything happens under a temp dir.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/support.hpp"

namespace tocsin::test {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> unit_names = {"tocsin.service", "tocsin-collector.service",
                                             "tocsin-router.service"};

std::string describe(const command_result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.stdout_text + "\nstderr:\n" +
         r.stderr_text;
}

// The example rules, which the package installs as /etc/tocsin/rules/*.yaml.
std::vector<std::string> example_rule_names() {
  std::vector<std::string> names;
  for (const auto& file : find_files(source_dir() / "config/examples/rules", ".yaml")) {
    names.push_back(file.filename().string());
  }
  return names;
}

// The package and its files extracted under one temp dir.
struct built_package {
  temp_dir work{"tocsin-package"};
  fs::path deb;
  fs::path root;  // the package's files, extracted
};

std::string dpkg_deb(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"dpkg-deb"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  return r.stdout_text;
}

// Paths in `dpkg-deb -c` output (like `tar tv`: the path is the last field), without the
// leading ".", directories included with their trailing '/'.
std::vector<std::string> package_paths(const fs::path& deb) {
  std::vector<std::string> paths;
  std::istringstream listing(dpkg_deb({"-c", deb.string()}));
  std::string line;
  while (std::getline(listing, line)) {
    const auto dot = line.find(" ./");
    if (dot != std::string::npos) paths.push_back(line.substr(dot + 2));
  }
  return paths;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

void check_files(const built_package& pkg) {
  const auto paths = package_paths(pkg.deb);
  std::vector<std::string> expected = {
      "/usr/bin/tocsin", "/usr/lib/sysusers.d/tocsin.conf", "/usr/lib/sysctl.d/30-tocsin.conf",
      "/etc/tocsin/tocsin.yaml", "/usr/share/doc/tocsin/README.md"};
  for (const auto& unit : unit_names) expected.push_back("/usr/lib/systemd/system/" + unit);
  ASSERT_FALSE(example_rule_names().empty());
  for (const auto& rule : example_rule_names()) expected.push_back("/etc/tocsin/rules/" + rule);
  for (const auto& path : expected) EXPECT_TRUE(contains(paths, path)) << path;
  const auto perms = fs::status(pkg.root / "usr/bin/tocsin").permissions();
  EXPECT_NE(perms & fs::perms::others_exec, fs::perms::none);
}

void check_control_fields(const built_package& pkg) {
  const auto field = [&](const char* name) { return dpkg_deb({"-f", pkg.deb.string(), name}); };
  EXPECT_EQ(field("Package"), "tocsin\n");
  EXPECT_NE(field("Maintainer"), "\n");
  EXPECT_NE(field("Description"), "\n");
  // dpkg-shlibdeps filled in the libraries the binary links, versioned.
  const std::string depends = field("Depends");
  for (const char* lib : {"libc6 (>=", "libstdc++6 (>=", "libre2-", "librdkafka", "libsystemd0",
                          "libsqlite3-0", "libcurl4", "libyaml-cpp"}) {
    EXPECT_NE(depends.find(lib), std::string::npos) << lib << " in Depends: " << depends;
  }
  EXPECT_NE(depends.find("systemd | adduser"), std::string::npos) << depends;
}

// dpkg keeps an admin's edits of conffiles: every file the package puts under /etc is one.
void check_conffiles(const built_package& pkg) {
  const std::string info = dpkg_deb({"-I", pkg.deb.string()});
  for (const char* member : {"control", "conffiles", "postinst", "prerm", "postrm"}) {
    EXPECT_TRUE(std::regex_search(info, std::regex(std::string(" ") + member + " ")))
        << member << " in\n"
        << info;
  }
  const std::string conffiles = dpkg_deb({"-I", pkg.deb.string(), "conffiles"});
  int under_etc = 0;
  for (const auto& path : package_paths(pkg.deb)) {
    if (path.starts_with("/etc/") && !path.ends_with("/")) {
      ++under_etc;
      EXPECT_NE(conffiles.find(path + "\n"), std::string::npos) << path << " in\n" << conffiles;
    }
  }
  EXPECT_GT(under_etc, 1);
}

void check_maintainer_scripts(const built_package& pkg) {
  const fs::path control = pkg.work / "control";
  dpkg_deb({"-e", pkg.deb.string(), control.string()});
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    const fs::path path = control / script;
    ASSERT_TRUE(fs::exists(path)) << path;
    EXPECT_NE(fs::status(path).permissions() & fs::perms::owner_exec, fs::perms::none) << path;
    const auto syntax = run_command({"sh", "-n", path.string()});
    EXPECT_EQ(syntax.exit_code, 0) << script << ": " << describe(syntax);
  }
  const std::string postinst = read_file(control / "postinst");
  EXPECT_NE(postinst.find("systemd-sysusers tocsin.conf"), std::string::npos);
  EXPECT_NE(postinst.find("adduser --system"), std::string::npos);
  EXPECT_NE(postinst.find("systemctl restart systemd-sysctl.service"), std::string::npos);
}

// rules_files: ["rules/*.yaml"] resolves against the config file, so the extracted config
// finds the extracted rules, and a broken rule there makes check-config fail. (The receiver
// file /var/log/tocsin/alerts.jsonl must be creatable: true as root here, and for the service,
// whose ExecStartPre runs after systemd made its LogsDirectory.)
void check_config_with_extracted_binary(const built_package& pkg) {
  const fs::path binary = pkg.root / "usr/bin/tocsin";
  const fs::path config = pkg.root / "etc/tocsin/tocsin.yaml";
  const auto ok = run_command({binary.string(), "check-config", "-c", config.string()});
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);

  const fs::path broken_rule = pkg.root / "etc/tocsin/rules/zz-broken.yaml";
  write_file(broken_rule, "rules:\n  - name: broken\n    match: { message: '(' }\n");
  const auto bad = run_command({binary.string(), "check-config", "-c", config.string()});
  fs::remove(broken_rule);
  EXPECT_EQ(bad.exit_code, 1) << describe(bad);
  EXPECT_NE((bad.stdout_text + bad.stderr_text).find(broken_rule.string()), std::string::npos)
      << describe(bad);
}

// verify needs the ExecStart binaries to exist: copies of the units run the extracted binary
// instead of /usr/bin/tocsin (after checking that this is the path they name).
void check_units(const built_package& pkg) {
  const fs::path units = pkg.work / "units";
  const std::string binary = (pkg.root / "usr/bin/tocsin").string();
  std::vector<std::string> verify = {"systemd-analyze", "verify", "--man=no"};
  for (const auto& name : unit_names) {
    std::string text = read_file(pkg.root / "usr/lib/systemd/system" / name);
    ASSERT_NE(text.find("\nExecStart=/usr/bin/tocsin "), std::string::npos) << name;
    ASSERT_NE(text.find("\nExecStartPre=/usr/bin/tocsin check-config -c /etc/tocsin/tocsin.yaml"),
              std::string::npos)
        << name;
    write_file(units / name, std::regex_replace(text, std::regex("/usr/bin/tocsin"), binary));
    verify.push_back((units / name).string());
  }
  const auto verified = run_command(verify);
  EXPECT_EQ(verified.exit_code, 0) << describe(verified);
  EXPECT_EQ(verified.stdout_text + verified.stderr_text, "") << describe(verified);

  // The exposure score of `systemd-analyze security` (0 best, 10 worst) for the units as shipped.
  for (const auto& name : unit_names) {
    const auto security = run_command({"systemd-analyze", "security", "--offline=true",
                                       (pkg.root / "usr/lib/systemd/system" / name).string()});
    const std::string text = security.stdout_text + security.stderr_text;
    std::smatch level;
    ASSERT_TRUE(
        std::regex_search(text, level, std::regex(R"(Overall exposure level for \S+: (\d+\.\d))")))
        << describe(security);
    EXPECT_LE(std::stod(level[1]), 2.5) << name << "\n" << text;
  }
}

void check_sysusers(const built_package& pkg) {
  const auto sysusers = find_program("systemd-sysusers");
  ASSERT_FALSE(sysusers.empty()) << "systemd-sysusers comes with systemd-analyze";
  // --root: the extracted tree gets its own /etc/passwd; this machine's stays untouched.
  const auto r = run_command({sysusers.string(), "--root=" + pkg.root.string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const std::string passwd = read_file(pkg.root / "etc/passwd");
  EXPECT_TRUE(
      std::regex_search(passwd, std::regex(R"((^|\n)tocsin:x:\d+:\d+:[^:]*:/var/lib/tocsin:)")))
      << passwd;
  EXPECT_NE(read_file(pkg.root / "etc/group").find("tocsin:x:"), std::string::npos);
}

// One test: building the package is the slow part, and each check needs it.
TEST(package, deb_installs_a_working_service) {
  for (const char* tool : {"cpack", "dpkg-deb", "systemd-analyze"}) {
    if (find_program(tool).empty()) {
      GTEST_SKIP() << tool << " is not installed (Debian packages: cmake, dpkg, systemd)";
    }
  }
  built_package pkg;
  // The build dir holding TOCSIN_BINARY has the CPackConfig.cmake that configure wrote.
  const fs::path cpack_config = tocsin_binary().parent_path() / "CPackConfig.cmake";
  const fs::path out = pkg.work / "out";
  fs::create_directories(out);
  const auto cpack = run_command({find_program("cpack").string(), "-G", "DEB", "--config",
                                  cpack_config.string(), "-B", out.string()},
                                 {}, {.cwd = out}, 300s);
  ASSERT_EQ(cpack.exit_code, 0) << describe(cpack);
  for (const auto& entry : fs::directory_iterator(out)) {
    if (entry.path().extension() == ".deb") {
      ASSERT_TRUE(pkg.deb.empty()) << "two packages: " << pkg.deb << " " << entry.path();
      pkg.deb = entry.path();
    }
  }
  ASSERT_FALSE(pkg.deb.empty()) << "no .deb from cpack\n" << describe(cpack);
  pkg.root = pkg.work / "root";
  const auto extracted = run_command({"dpkg-deb", "-x", pkg.deb.string(), pkg.root.string()});
  ASSERT_EQ(extracted.exit_code, 0) << describe(extracted);

  {
    SCOPED_TRACE("files");
    check_files(pkg);
  }
  {
    SCOPED_TRACE("control fields");
    check_control_fields(pkg);
  }
  {
    SCOPED_TRACE("conffiles");
    check_conffiles(pkg);
  }
  {
    SCOPED_TRACE("maintainer scripts");
    check_maintainer_scripts(pkg);
  }
  {
    SCOPED_TRACE("check-config");
    check_config_with_extracted_binary(pkg);
  }
  {
    SCOPED_TRACE("units");
    check_units(pkg);
  }
  {
    SCOPED_TRACE("sysusers");
    check_sysusers(pkg);
  }
}

}  // namespace
}  // namespace tocsin::test
