#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through CTest: unit,
# integration (librdkafka's mock cluster among the peers), kafka-real (a real Apache Kafka
# started by scripts/kafka-broker) and a short libFuzzer smoke run per fuzz target, all under
# ASan+UBSan (clang).
# Safe to run again. For a quicker local loop use the dev preset:
#   cmake --preset dev && cmake --build --preset dev && ctest --preset dev -j2
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
# The Kafka broker's jars, once into build/kafka-dist (offline afterwards).
bash scripts/kafka-broker fetch

if git rev-parse --git-dir >/dev/null 2>&1; then
  echo "== format check"
  git ls-files -z '*.cpp' '*.hpp' | xargs -0 -r clang-format --dry-run --Werror
fi
echo "== layers check"
python3 scripts/check-layers

echo "== asan-ubsan configure + clang-tidy"
cmake --preset asan-ubsan >/dev/null
bash scripts/tidy build-asan

echo "== asan-ubsan build + tests + fuzz smoke"
cmake --build --preset asan-ubsan
ctest --preset asan-ubsan -j2
