#!/usr/bin/env bash
# Install Debian's nginx when it is missing (the scale-out test and the benchmarks use it).
set -euo pipefail
[ -x /usr/sbin/nginx ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "deploy: installing nginx-light with apt-get" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light) >/dev/null
else
  echo "deploy: nginx is missing: install it (sudo apt-get install nginx-light)" >&2
  exit 1
fi
