#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through CTest: unit and
# integration tests on the dev build, then everything again under ASan+UBSan with a short
# libFuzzer smoke run per fuzz target. Safe to run again.
#   TOCSIN_SKIP_ASAN=1  skip the sanitizer pass (quicker local runs)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

if git rev-parse --git-dir >/dev/null 2>&1; then
  echo "== format check"
  git ls-files -z '*.cpp' '*.hpp' | xargs -0 -r clang-format --dry-run --Werror
fi

echo "== dev build + tests"
cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev -j2

if [[ "${TOCSIN_SKIP_ASAN:-0}" != 1 ]]; then
  echo "== asan-ubsan build + tests + fuzz smoke"
  cmake --preset asan-ubsan >/dev/null
  cmake --build --preset asan-ubsan
  ctest --preset asan-ubsan -j2
fi
