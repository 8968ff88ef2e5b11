#!/usr/bin/env bash
# Profile one bench server under wrk load and print the functions with the most self time.
#   bench/profile.sh servers/carafe.mjs /hello [top-N] [extra wrk args…]
# e.g. bench/profile.sh servers/carafe.mjs /validate 40 -s /tmp/post.lua
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
server="$here/$1"; path="$2"; top="${3:-30}"; shift 3 || shift $#
dir=$(mktemp -d)
port=$((20000 + RANDOM % 10000))
PORT=$port taskset -c 1 node --cpu-prof --cpu-prof-dir="$dir" --input-type=module \
  -e "process.on('SIGINT', () => process.exit(0)); await import('$server')" >/dev/null &
pid=$!
sleep 1
taskset -c 0 wrk -t1 -c50 -d4s "$@" "http://127.0.0.1:$port$path" | grep Requests/sec
kill -INT $pid; wait $pid || true
node -e '
const fs = require("fs"); const dir = process.argv[1]; const top = Number(process.argv[2])
const p = JSON.parse(fs.readFileSync(dir + "/" + fs.readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))))
const byId = new Map(p.nodes.map((n) => [n.id, n])); const time = new Map(); const self = new Map()
p.samples.forEach((id, i) => time.set(id, (time.get(id) || 0) + (p.timeDeltas[i] || 0)))
for (const [id, t] of time) { const f = byId.get(id).callFrame; const k = `${f.functionName || "(anon)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`; self.set(k, (self.get(k) || 0) + t) }
const total = [...self.values()].reduce((a, b) => a + b, 0)
;[...self].sort((a, b) => b[1] - a[1]).slice(0, top).forEach(([k, t]) => console.log((t / total * 100).toFixed(1).padStart(5) + "%  " + k))
' "$dir" "$top"
rm -rf "$dir"
