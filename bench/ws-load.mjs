// The load side of bench/ws.mjs (run pinned to its own CPU): echo or broadcast, prints JSON.
//   node ws-load.mjs echo <port> <connections> <seconds>
//   node ws-load.mjs broadcast <port> <clients> <rounds>
import { WebSocket } from 'ws'

const [mode, portArg, nArg, secondsArg] = process.argv.slice(2)
const port = Number(portArg)
const n = Number(nArg)

const open = (path) => new Promise((resolve, reject) => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false })
  ws.once('open', () => resolve(ws))
  ws.once('error', reject)
})

if (mode === 'echo') {
  // Each connection keeps one 32-byte message in flight: send, wait for the echo, send again.
  const sockets = await Promise.all(Array.from({ length: n }, () => open('/echo')))
  const payload = 'x'.repeat(32)
  let count = 0
  let running = true
  for (const ws of sockets) {
    ws.on('message', () => { count++; if (running) ws.send(payload) })
    ws.send(payload)
  }
  const seconds = Number(secondsArg)
  await new Promise((r) => setTimeout(r, 1000)) // warm-up
  const start = count
  const t0 = process.hrtime.bigint()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const got = count - start
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9
  running = false
  console.log(JSON.stringify({ messages: got, seconds: elapsed }))
  for (const ws of sockets) ws.terminate()
} else if (mode === 'broadcast') {
  // n clients in the room; one of them sends "broadcast:<i>"; time until all n got it.
  const sockets = []
  for (let i = 0; i < n; i += 100) sockets.push(...await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => open('/room'))))
  await new Promise((r) => setTimeout(r, 500))
  const rounds = Number(secondsArg)
  const times = []
  for (let round = 0; round < rounds; round++) {
    const tag = `broadcast:${round}`
    let left = n
    const done = new Promise((resolve) => {
      for (const ws of sockets) {
        const on = (data) => {
          if (String(data) !== tag) return
          ws.off('message', on)
          if (--left === 0) resolve()
        }
        ws.on('message', on)
      }
    })
    const t0 = process.hrtime.bigint()
    sockets[0].send(tag)
    await done
    times.push(Number(process.hrtime.bigint() - t0) / 1e6)
    await new Promise((r) => setTimeout(r, 100))
  }
  times.sort((a, b) => a - b)
  console.log(JSON.stringify({ medianMs: times[Math.floor(times.length / 2)], minMs: times[0] }))
  for (const ws of sockets) ws.terminate()
}
process.exit(0)
