import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import * as v from 'valibot'
import { Carafe, safeFilename } from '../../src/index.js'
import { DOORS } from '../helpers/server.js'

// Uploads of this file go to a temp folder of its own (os.tmpdir() reads TMPDIR each time),
// so the uploads of tests running beside it, in other processes, never count here.
const PRIVATE_TMP = mkdtempSync(path.join(tmpdir(), 'carafe-formstest-'))
process.env.TMPDIR = PRIVATE_TMP
process.on('exit', () => rmSync(PRIVATE_TMP, { recursive: true, force: true }))

async function uploadDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((n) => n.startsWith('carafe-upload-'))
}

function multipart(parts: Array<{ name: string; value?: string; filename?: string; type?: string; data?: Buffer }>): { body: BodyInit; type: string } {
  const boundary = '----carafe' + Math.random().toString(16).slice(2)
  const chunks: Buffer[] = []
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`
    if (p.filename !== undefined) head += `; filename="${p.filename}"\r\nContent-Type: ${p.type ?? 'application/octet-stream'}`
    chunks.push(Buffer.from(`${head}\r\n\r\n`), p.data ?? Buffer.from(p.value ?? ''), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: new Uint8Array(Buffer.concat(chunks)) as BodyInit, type: `multipart/form-data; boundary=${boundary}` }
}

for (const [door, open] of Object.entries(DOORS)) {
  describe(`forms through the ${door} door`, () => {
    it('reads urlencoded forms with repeated names, bounded nesting and no prototype pollution', async (t) => {
      const app = new Carafe()
      app.post('/f', async (c) => {
        const form = await c.req.form()
        return { name: form.get('name'), tags: form.getAll('tag'), obj: JSON.parse(JSON.stringify(form.toObject())) }
      })
      const fetch = await open(app, t)
      const res = await fetch('/f', { method: 'POST', body: 'name=%EB%82%98+%EB%B0%A9&tag=a&tag=b&user[address][city]=Seoul&list[]=1&list[]=2&a[b][c][d][e][f][g]=deep', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      assert.deepEqual(await res.json(), {
        name: '나 방', tags: ['a', 'b'],
        obj: { name: '나 방', tag: ['a', 'b'], user: { address: { city: 'Seoul' } }, list: ['1', '2'], a: { b: { c: { d: { 'e.f.g': 'deep' } } } } },
      })
      for (const body of ['__proto__[polluted]=1', 'constructor[prototype][polluted]=1', 'a[__proto__][x]=1']) {
        const bad = await fetch('/f', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
        assert.equal(bad.status, 400, body)
        assert.match(await bad.text(), /is not allowed/)
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
    })

    it('answers a wrong content type, bad urlencoding and too many fields with 4xx', async (t) => {
      const app = new Carafe({ uploads: { fields: 5 } })
      app.post('/f', async (c) => (await c.req.form()).keys())
      const fetch = await open(app, t)
      let res = await fetch('/f', { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })
      assert.equal(res.status, 400)
      assert.match(await res.text(), /expected a form body/)
      res = await fetch('/f', { method: 'POST', body: 'a=%E0%A4%A', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      assert.equal(res.status, 400)
      assert.match(await res.text(), /malformed percent-encoding/)
      res = await fetch('/f', { method: 'POST', body: 'a=1&b=2&c=3&d=4&e=5&f=6', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      assert.equal(res.status, 413)
      assert.match(await res.text(), /too many form fields/)
      assert.deepEqual(await (await fetch('/f', { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).json(), ['a'])
    })

    it('streams multipart uploads: small files in memory, large ones spooled, temp files removed after', async (t) => {
      const app = new Carafe({ uploads: { memoryThreshold: 1024 } })
      let spooledPath: string | null = null
      app.post('/up', async (c) => {
        const form = await c.req.form()
        const small = form.file('small')!
        const big = form.file('big')!
        spooledPath = big.path
        return {
          title: form.text('title'), small: { filename: small.filename, type: small.type, size: small.size, text: await small.text(), path: small.path },
          big: { size: big.size, spooled: big.path !== null, first: Buffer.from(await big.bytes()).subarray(0, 3).toString() },
        }
      })
      const fetch = await open(app, t)
      const before = await uploadDirs()
      const { body, type } = multipart([
        { name: 'title', value: '제목' },
        { name: 'small', filename: 'note.txt', type: 'text/plain', data: Buffer.from('hello') },
        { name: 'big', filename: '나의 비밀 방.bin', data: Buffer.concat([Buffer.from('abc'), Buffer.alloc(200_000, 7)]) },
      ])
      const res = await fetch('/up', { method: 'POST', body, headers: { 'content-type': type } })
      assert.deepEqual(await res.json(), {
        title: '제목', small: { filename: 'note.txt', type: 'text/plain', size: 5, text: 'hello', path: null },
        big: { size: 200_003, spooled: true, first: 'abc' },
      })
      assert.ok(spooledPath !== null)
      await new Promise((r) => setTimeout(r, 50))
      assert.deepEqual(await uploadDirs(), before, 'the temporary upload folder is gone')
    })

    it('refuses a file over the size limit and too many files with 413, leaving no temp file', async (t) => {
      const app = new Carafe({ uploads: { fileSize: 10_000, files: 2, memoryThreshold: 100 } })
      app.post('/up', async (c) => (await c.req.form()).files.length)
      const fetch = await open(app, t)
      const before = await uploadDirs()
      let { body, type } = multipart([{ name: 'f', filename: 'huge.bin', data: Buffer.alloc(50_000) }])
      let res = await fetch('/up', { method: 'POST', body, headers: { 'content-type': type } })
      assert.equal(res.status, 413)
      assert.match(await res.text(), /"huge.bin" is larger than the limit of 10000 bytes/)
      ;({ body, type } = multipart([1, 2, 3].map((i) => ({ name: `f${i}`, filename: `${i}.txt`, data: Buffer.from('x') }))))
      res = await fetch('/up', { method: 'POST', body, headers: { 'content-type': type } })
      assert.equal(res.status, 413)
      assert.match(await res.text(), /too many files: at most 2/)
      ;({ body, type } = multipart([{ name: 'f', filename: 'ok.txt', data: Buffer.from('fine') }]))
      assert.equal(await (await fetch('/up', { method: 'POST', body, headers: { 'content-type': type } })).text(), '1')
      await new Promise((r) => setTimeout(r, 50))
      assert.deepEqual(await uploadDirs(), before)
    })

    it('answers a malformed multipart body with 400', async (t) => {
      const app = new Carafe()
      app.post('/up', async (c) => (await c.req.form()).keys())
      const fetch = await open(app, t)
      let res = await fetch('/up', { method: 'POST', body: 'garbage', headers: { 'content-type': 'multipart/form-data' } })
      assert.equal(res.status, 400)
      res = await fetch('/up', { method: 'POST', body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated', headers: { 'content-type': 'multipart/form-data; boundary=x' } })
      assert.equal(res.status, 400)
      assert.match(await res.text(), /multipart/)
    })

    it('makes upload file names safe, and saveTo() cannot leave its folder', async (t) => {
      const { mkdtemp, readdir: ls } = await import('node:fs/promises')
      const path = await import('node:path')
      const dir = await mkdtemp(path.join(tmpdir(), 'carafe-save-'))
      t.after(() => import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true })))
      const app = new Carafe()
      app.post('/up', async (c) => {
        const f = (await c.req.form()).file('f')!
        const saved = await f.saveTo(dir)
        return { filename: f.filename, original: f.originalFilename, saved: path.relative(dir, saved) }
      })
      const fetch = await open(app, t)
      const { body, type } = multipart([{ name: 'f', filename: '../../etc/passwd', data: Buffer.from('x') }])
      const res = await fetch('/up', { method: 'POST', body, headers: { 'content-type': type } })
      const out = await res.json() as Record<string, string>
      assert.equal(out.filename, 'passwd')
      assert.equal(out.saved, 'passwd')
      assert.deepEqual(await ls(dir), ['passwd'])
    })

    it('validates json, query, params and form with zod or valibot, giving typed values or a 400 listing fields', async (t) => {
      const app = new Carafe()
      const User = z.object({ name: z.string().min(1), age: z.number().int().min(0) })
      app.post('/users', async (c) => {
        const user = await c.valid('json', User)
        const age: number = user.age
        return { ...user, age }
      })
      app.get('/search', async (c) => c.valid('query', v.object({ q: v.string(), page: v.pipe(v.string(), v.transform(Number), v.number()) })))
      app.get('/items/<id>', async (c) => c.valid('params', z.object({ id: z.string().regex(/^\d+$/) })))
      app.post('/signup', async (c) => {
        const r = await c.validate('form', z.object({ email: z.string().email(), name: z.string().min(2) }))
        return r.success ? { ok: r.data.email } : { errors: r.errors }
      })
      const fetch = await open(app, t)
      let res = await fetch('/users', { method: 'POST', body: '{"name":"Kim","age":30}', headers: { 'content-type': 'application/json' } })
      assert.deepEqual(await res.json(), { name: 'Kim', age: 30 })
      res = await fetch('/users', { method: 'POST', body: '{"name":"","age":-1}', headers: { 'content-type': 'application/json' } })
      assert.equal(res.status, 400)
      const err = await res.json() as { message: string; issues: Array<{ path: string }> }
      assert.deepEqual(err.issues.map((i) => i.path), ['name', 'age'])
      assert.match(err.message, /^invalid json: name: .+; age: .+/)
      res = await fetch('/users', { method: 'POST', body: '{"name":"Kim","age":30}', headers: { 'content-type': 'text/plain' } })
      assert.equal(res.status, 400)
      assert.match(await res.text(), /expected a JSON body/)
      assert.deepEqual(await (await fetch('/search?q=tea&page=2')).json(), { q: 'tea', page: 2 })
      assert.equal((await fetch('/search?page=2')).status, 400)
      assert.equal((await fetch('/items/12')).status, 200)
      assert.equal((await fetch('/items/x')).status, 400)
      res = await fetch('/signup', { method: 'POST', body: 'email=nope&name=K', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      const form = await res.json() as { errors: Record<string, string[]> }
      assert.deepEqual(Object.keys(form.errors).sort(), ['email', 'name'])
    })

    it('negotiates content with c.accepts()', async (t) => {
      const app = new Carafe()
      app.get('/x', (c) => (c.accepts('html', 'json') === 'json' ? { kind: 'json' } : c.html('<p>html</p>')))
      const fetch = await open(app, t)
      assert.deepEqual(await (await fetch('/x', { headers: { accept: 'application/json' } })).json(), { kind: 'json' })
      assert.equal(await (await fetch('/x', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })).text(), '<p>html</p>')
    })
  })
}

describe('safeFilename', () => {
  it('keeps one path component, without traversal or control characters', () => {
    assert.equal(safeFilename('../../etc/passwd'), 'passwd')
    assert.equal(safeFilename('..\\..\\windows\\system.ini'), 'system.ini')
    assert.equal(safeFilename('.env'), 'env')
    assert.equal(safeFilename('..'), 'upload')
    assert.equal(safeFilename('a\r\nb\0.txt'), 'ab.txt')
    assert.equal(safeFilename('나의 비밀 방.txt'), '나의 비밀 방.txt')
  })
})
