#!/usr/bin/env bash
# Installs every Debian package tocsin needs to build, test and benchmark — build
# dependencies and the real test peers alike. Idempotent: installs only what is missing.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git dpkg-dev clang libclang-rt-14-dev clang-format clang-tidy
  # libraries
  libboost-dev libre2-dev librdkafka-dev libcurl4-openssl-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libsqlite3-dev zlib1g-dev libssl-dev
  libhowardhinnant-date-dev tzdata libical-dev libsystemd-dev libgtest-dev libgmock-dev libbenchmark-dev
  # real test peers
  bsdutils rsyslog rsyslog-openssl rsyslog-relp librelp-dev haproxy kcat python3 python3-graypy python3-aiosmtpd prometheus-alertmanager
  prometheus procps iproute2 curl openssl systemd
  # the web UI's browser tests: headless Chromium, driven by playwright-core under Node.js
  chromium
  # a real Apache Kafka for the kafka-real tests and the demo (jars from Maven: scripts/kafka-broker)
  openjdk-17-jre-headless maven
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root (or with sudo)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends keeps rsyslog and friends from pulling in services we do not need.
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# rsyslog's package may start a system daemon; tests run their own instances on loopback only.
# The same for Prometheus and its Alertmanager: tests start their own on free ports.
for service in rsyslog haproxy prometheus prometheus-alertmanager; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
  fi
done

# playwright-core for the browser tests (tests/browser), pinned by its committed package-lock.json,
# into tests/browser/node_modules; again only when the locked version is not there yet. It needs
# Node.js >= 20 (Debian 12's nodejs is 18: use NodeSource's or a newer Debian's); without it the
# browser tests skip.
browser_dir="$(dirname "$0")/../tests/browser"
locked=$(sed -n '/"node_modules\/playwright-core"/,/version/s/.*"version": "\(.*\)".*/\1/p' "$browser_dir/package-lock.json")
installed=$(sed -n 's/^  "version": "\(.*\)",/\1/p' "$browser_dir/node_modules/playwright-core/package.json" 2>/dev/null || true)
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [[ "$installed" != "$locked" ]]; then
  if ((node_major >= 20)) && command -v npm >/dev/null 2>&1; then
    echo "install-deps: npm ci in tests/browser (playwright-core $locked)"
    (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error)
  else
    echo "install-deps: no Node.js >= 20 with npm: the browser tests will be skipped" >&2
  fi
fi
