import http from 'node:http'
import type { TestContext } from 'node:test'
import type { Carafe } from '../../src/index.js'
import { serve } from '../helpers/server.js'

/** A response with its body exactly as sent (global `fetch` would undo a content coding). */
export interface RawResponse {
  status: number
  headers: Headers
  body: Buffer
  /** The body as a stream of the bytes as they arrive. */
  stream: AsyncIterable<Uint8Array>
}

/** A way to send a request to an app and get the raw answer. */
export type RawDoor = (app: Carafe, t: TestContext) => Promise<(path: string, init?: RawInit) => Promise<RawResponse>>

/** Request settings the raw doors understand. */
export interface RawInit {
  method?: string
  headers?: Record<string, string>
  /** Return as soon as the headers are in; read the body from `stream` (then `body` is empty). */
  streaming?: boolean
}

/** Both doors, raw: `app.request()` in process, and `node:http` over loopback. */
export const RAW_DOORS: Record<'fetch' | 'node', RawDoor> = {
  fetch: async (app) => async (path, init = {}) => {
    const res = await app.request(path, { method: init.method, headers: init.headers })
    const stream = (res.body ?? emptyStream()) as unknown as AsyncIterable<Uint8Array>
    const body = init.streaming === true ? Buffer.alloc(0) : await collect(stream)
    return { status: res.status, headers: res.headers, body, stream }
  },
  node: async (app, t) => {
    const s = await serve(t, app)
    return (path, init = {}) => new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: s.port, path, method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
        const headers = new Headers()
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!)
        const done = (body: Buffer): void => resolve({ status: res.statusCode!, headers, body, stream: res })
        if (init.streaming === true) done(Buffer.alloc(0))
        else collect(res).then(done, reject)
      })
      req.on('error', reject)
      req.end()
    })
  },
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start(ctl) { ctl.close() } })
}
