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
