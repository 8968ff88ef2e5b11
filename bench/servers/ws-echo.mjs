// WebSocket servers for bench/ws.mjs, one per BENCH_WS kind: carafe (app.ws), ws (raw `ws`
// on node:http), fastify (@fastify/websocket). Each echoes every message on /echo and, on
// /room, subscribes the socket to one room; a text message "broadcast:<n>" sent there is
// delivered to every socket in the room. PORT from the environment.
import { createServer } from 'node:http'

const kind = process.env.BENCH_WS
const port = Number(process.env.PORT)

if (kind === 'carafe') {
  const { Carafe } = await import('../../dist/index.js')
  const app = new Carafe({ websocket: { maxConnections: 100_000, heartbeat: 0 } })
  if (process.env.BENCH_VARIANT === 'rawsend') app.ws('/echo', { message(ws, data) { ws.raw.send(data) } })
  else app.ws('/echo', { message(ws, data) { ws.send(data) } })
  app.ws('/room', {
    open(ws) { ws.subscribe('room') },
    message(_ws, data) { app.publish('room', String(data)) },
  })
  await app.listen({ port, host: '127.0.0.1' })
} else if (kind === 'ws') {
  const { WebSocketServer } = await import('ws')
  const server = createServer((req, res) => { res.writeHead(404); res.end() })
  const echo = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 })
  const room = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 })
  echo.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })))
  room.on('connection', (ws) => ws.on('message', (data) => { const text = String(data); for (const c of room.clients) c.send(text) }))
  server.on('upgrade', (req, socket, head) => {
    const target = req.url === '/echo' ? echo : req.url === '/room' ? room : null
    if (target === null) return socket.destroy()
    target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req))
  })
  await new Promise((r) => server.listen(port, '127.0.0.1', r))
} else if (kind === 'fastify') {
  const { default: Fastify } = await import('fastify')
  const { default: websocket } = await import('@fastify/websocket')
  const app = Fastify({ logger: false })
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } })
  const members = new Set()
  app.register(async (f) => {
    f.get('/echo', { websocket: true }, (socket) => { socket.on('message', (data, binary) => socket.send(data, { binary })) })
    f.get('/room', { websocket: true }, (socket) => {
      members.add(socket)
      socket.on('close', () => members.delete(socket))
      socket.on('message', (data) => { const text = String(data); for (const c of members) c.send(text) })
    })
  })
  await app.listen({ port, host: '127.0.0.1' })
} else throw new Error(`BENCH_WS must be carafe, ws or fastify, not ${kind}`)
console.log(`${kind} listening on 127.0.0.1:${port}`)
