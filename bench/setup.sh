#!/usr/bin/env bash
# Install what the benchmarks need: the load generator and the peer servers from Debian
# (wrk, h2load, nginx, Python's http.server), and the peer frameworks from npm (bench/package.json).
set -euo pipefail
cd "$(dirname "$0")"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client) # HTTP/2 load for h2.mjs
command -v openssl >/dev/null || missing+=(openssl)
command -v taskset >/dev/null || missing+=(util-linux)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x /usr/bin/python3 ] || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bench: installing ${missing[*]} with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bench: please install ${missing[*]} (e.g. sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
npm ci --no-audit --no-fund --silent
