import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { request, type Agent, type IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { TestContext } from 'node:test'
import { createFolderApp, type StaticOptions } from '../../src/static/index.js'
import type { ListenOptions } from '../../src/index.js'
import { serve } from '../helpers/server.js'

/** A temporary folder with `files` in it (names may contain `/`), removed when the test ends. */
export async function tempTree(t: TestContext, files: Record<string, string | Buffer> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'carafe-static-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  for (const [name, content] of Object.entries(files)) {
    const full = path.join(dir, name)
    if (name.endsWith('/')) await mkdir(full, { recursive: true })
    else {
      await mkdir(path.dirname(full), { recursive: true })
      await writeFile(full, content)
    }
  }
  return dir
}

/** Serve `dir` the way `carafe serve` does, on 127.0.0.1:0. */
export async function serveFolder(t: TestContext, dir: string, options: StaticOptions = {}, listen: ListenOptions = {}): Promise<{ port: number; url: string }> {
  const { app } = createFolderApp(dir, options)
  const s = await serve(t, app, listen)
  return { port: s.port, url: s.url }
}

/** A response as the wire had it. */
export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/**
 * Send one request with the path exactly as given (no URL normalisation, unlike fetch,
 * which would resolve `..` and `%2e%2e` before sending them).
 */
export function get(port: number, rawPath: string, headers: Record<string, string> = {}, method = 'GET', agent: Agent | false = false): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: rawPath, method, headers, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}
