#!/usr/bin/env bash
# Quick start: install what is missing, build, and run tocsin in the foreground on the example
# config (syslog on 5514 UDP+TCP, GELF on 12201 UDP+TCP, admin on 127.0.0.1:9095, archive under
# ./var/log). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target tocsin

cat <<'MSG'

tocsin is starting on config/examples/tocsin.yaml. In another terminal, send a first message:

  logger -n 127.0.0.1 -P 5514 -T --rfc5424 "hello from $(hostname)"

then look at what was archived and counted:

  cat var/log/*/*.log
  curl -s 127.0.0.1:9095/metrics | grep tocsin_input

Stop with Ctrl-C.

MSG
exec build/tocsin run -c config/examples/tocsin.yaml
