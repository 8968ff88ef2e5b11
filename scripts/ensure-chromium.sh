#!/usr/bin/env bash
# Install Debian's Chromium when it is missing (the browser tests drive it with playwright-core).
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "tests: installing chromium with apt-get (for the browser tests)" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
else
  echo "tests: chromium is missing: install it (sudo apt-get install chromium)" >&2
  exit 1
fi
