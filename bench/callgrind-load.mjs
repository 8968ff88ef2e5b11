// Exactly N GETs over C keep-alive connections (for bench/callgrind.sh): node callgrind-load.mjs PORT PATH N C
import http from 'node:http'
const [port, path, n, conns] = process.argv.slice(2).map((v, i) => i === 1 ? v : Number(v))
const agent = new http.Agent({ keepAlive: true, maxSockets: conns })
let sent = 0, done = 0
await new Promise((resolve) => {
  const one = () => {
    if (sent >= n) return
    sent++
    http.get({ port, path, agent, host: '127.0.0.1' }, (res) => { res.resume(); res.on('end', () => { if (++done === n) resolve(); else one() }) })
  }
  for (let i = 0; i < conns; i++) one()
})
agent.destroy()
