// Reference for the static-file scenarios: raw node:http serving bench/static/www/file-1k.txt
// from a buffer read once, revalidated by one statSync per request (as carafe serve must,
// so an edited file is never served stale), with the headers a file server sends. It does
// nothing else (no paths, no listing, no ranges): the floor a Node file server can reach.
import { readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { portFromEnv } from './routes.mjs'

const file = join(fileURLToPath(new URL('../static/www', import.meta.url)), 'file-1k.txt')
let st = statSync(file)
let body = readFileSync(file)
const headersOf = (s) => [
  'content-type', 'text/plain; charset=utf-8', 'content-length', String(body.length),
  'etag', `"${s.mtimeMs.toString(36)}-${s.size.toString(36)}"`, 'last-modified', s.mtime.toUTCString(),
  'accept-ranges', 'bytes', 'cache-control', 'no-cache',
]
let headers = headersOf(st)

function revalidate() {
  const now = statSync(file)
  if (now.mtimeMs !== st.mtimeMs || now.size !== st.size || now.ino !== st.ino) {
    st = now
    body = readFileSync(file)
    headers = headersOf(st)
  }
}

// BENCH_NODE_BATCH=1 (the node-static-batched server): answer each event-loop turn's
// requests together at its end, after one statSync for all of them, as carafe serve does
// (its Node door batches writes, its file cache batches revalidation). The floor for that design.
const BATCH = process.env.BENCH_NODE_BATCH === '1'
let waiting = null
function flush() {
  const list = waiting
  waiting = null
  revalidate()
  for (const res of list) {
    res.writeHead(200, headers)
    res.end(body)
  }
}

const port = portFromEnv()
createServer((req, res) => {
  if (req.url !== '/file-1k.txt') {
    res.writeHead(404, { 'content-length': 0 })
    res.end()
    return
  }
  if (BATCH) {
    if (waiting === null) {
      waiting = []
      setImmediate(flush)
    }
    waiting.push(res)
    return
  }
  revalidate()
  res.writeHead(200, headers)
  res.end(body)
}).listen(port, '127.0.0.1', () => console.log(`node-static listening on 127.0.0.1:${port}`))
