import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT, appDir } from '../helpers/spawn.js'

const SERVER = `import { Carafe } from ${JSON.stringify(path.join(ROOT, 'build/src/index.js'))}
const app = new Carafe()
app.post('/up', async (c) => (await c.req.form()).files.length)
app.run({ port: 0, host: '127.0.0.1', log: false, shutdownTimeout: SHUTDOWN })
`

async function uploadFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const d of (await readdir(dir)).filter((n) => n.startsWith('carafe-upload-'))) {
    out.push(d, ...(await readdir(path.join(dir, d)).catch(() => [])).map((f) => `${d}/${f}`))
  }
  return out
}

describe('graceful shutdown (SIGTERM) during an upload', () => {
  for (const shutdown of [300, 10_000]) {
    it(`removes the upload's temp folder (shutdownTimeout ${shutdown} ms${shutdown > 1000 ? ', the upload finishing meanwhile' : ''})`, async (t) => {
      const tmp = await mkdtemp(path.join(tmpdir(), 'carafe-shutdown-'))
      t.after(() => rm(tmp, { recursive: true, force: true }))
      const file = path.join(await appDir(), 'server.mjs')
      await writeFile(file, SERVER.replace('SHUTDOWN', String(shutdown)))
      const child = spawn(process.execPath, [file], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] })
      t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
      let out = ''
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString()
          const m = /127\.0\.0\.1 port (\d+)/.exec(out)
          if (m !== null) resolve(Number(m[1]))
        })
        child.on('exit', () => reject(new Error(`server exited: ${out}`)))
      })
      const boundary = 'carafe-term'
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n`
      const size = 4 * 1024 * 1024
      const socket = net.connect(port, '127.0.0.1')
      socket.on('error', () => {})
      socket.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${head.length + size + boundary.length + 8}\r\n\r\n${head}`)
      socket.write(Buffer.alloc(1024 * 1024, 97))
      // The upload is spooled to disk before the signal comes.
      const end = Date.now() + 5000
      while ((await uploadFiles(tmp)).length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
      assert.equal((await uploadFiles(tmp)).length, 2, 'the upload is being spooled to a temp file')
      child.kill('SIGTERM')
      if (shutdown > 1000) {
        // The server waits for the request in flight: let the upload complete.
        socket.write(Buffer.alloc(size - 1024 * 1024, 97))
        socket.write(`\r\n--${boundary}--\r\n`)
      }
      assert.equal(await exited, 0)
      socket.destroy()
      assert.deepEqual(await uploadFiles(tmp), [], 'no temp folder is left after shutdown')
    })
  }
})
