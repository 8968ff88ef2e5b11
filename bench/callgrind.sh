#!/usr/bin/env bash
# User-space instructions per request of one server, under callgrind: repeatable to about 1 %
# on this shared VM, where CPU time per request moves by up to 2x between runs. For A/B of a
# JS change (old build vs new), not for ratios to other servers (kernel time is not counted).
#   bench/callgrind.sh "node bench/servers/carafe.mjs" /users/1234/posts/5678
#   CARAFE_DIST=/tmp/base/dist bench/callgrind.sh "node bench/servers/carafe.mjs" /hello
#   bench/callgrind.sh "node dist/cli/main.js serve bench/static/www --port {PORT} -b 127.0.0.1 -q" /file-1k.txt
# Needs valgrind (apt-get install valgrind). 3,000 requests warm up, 4,000 are counted, over
# CONNS keep-alive connections (default 50; CONNS=1 takes batching out, for exact A/B of per-request code).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=$1; path=$2; port=$((23000 + RANDOM % 5000)); out=$(mktemp -d)
command -v valgrind >/dev/null || { echo "install valgrind: apt-get install valgrind" >&2; exit 1; }
PORT=$port bash -c "exec valgrind --tool=callgrind --callgrind-out-file=$out/cg.out --smc-check=all-non-file --instr-atstart=no ${cmd//\{PORT\}/$port}" > "$out/valgrind.log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true; rm -rf "$out"' EXIT
for _ in $(seq 1 120); do curl -s -o /dev/null "http://127.0.0.1:$port$path" && break; sleep 0.5; done
conns=${CONNS:-50}
node "$here/callgrind-load.mjs" "$port" "$path" 3000 "$conns"
callgrind_control -i on "$pid" >/dev/null
node "$here/callgrind-load.mjs" "$port" "$path" 4000 "$conns"
callgrind_control -i off "$pid" >/dev/null
callgrind_control -d "$pid" >/dev/null
sleep 1
# The dump made with -d holds the counted part ("totals:"; its "summary:" line may read 0).
total=$(grep -h "^totals:" "$out"/cg.out* | awk '{s+=$2} END {print s}')
echo "$((total / 4000)) instructions/request ($cmd $path)"
