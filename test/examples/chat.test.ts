import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { spawnCli } from '../helpers/spawn.js'

const require = createRequire(import.meta.url)
const { WebSocket } = require('ws') as typeof import('ws')

/** A browser-ish client: a cookie jar and the last CSRF token of a page. */
class Client {
  cookies = new Map<string, string>()
  token = ''
  constructor(readonly url: string) {}
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
  async go(p: string, init: RequestInit = {}): Promise<{ status: number; body: string; location: string | null }> {
    const headers = new Headers(init.headers)
    if (this.cookies.size > 0) headers.set('cookie', this.header())
    const res = await fetch(this.url + p, { redirect: 'manual', ...init, headers })
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const i = pair!.indexOf('=')
      const v = pair!.slice(i + 1)
      if (v === '' || /max-age=0/i.test(c)) this.cookies.delete(pair!.slice(0, i))
      else this.cookies.set(pair!.slice(0, i), v)
    }
    const body = await res.text()
    const m = /name="_csrf" value="([^"]+)"/.exec(body)
    if (m !== null) this.token = m[1]!
    return { status: res.status, body, location: res.headers.get('location') }
  }
  post(p: string, fields: Record<string, string>): ReturnType<Client['go']> {
    return this.go(p, { method: 'POST', body: new URLSearchParams({ _csrf: this.token, ...fields }) })
  }
  async signIn(name: string): Promise<void> {
    await this.go('/')
    const r = await this.post('/signin', { name, password: `${name} password` })
    assert.equal(r.status, 303)
    assert.equal(r.location, '/rooms/lobby')
  }
  socket(room: string, origin = this.url): Promise<{ ws: import('ws').WebSocket; hello: { hello: string; worker: number }; messages: unknown[] }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.url.replace('http', 'ws')}/ws/${room}`, { headers: { cookie: this.header(), origin } })
      const messages: unknown[] = []
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as { hello?: string; worker: number }
        if (m.hello !== undefined) resolve({ ws, hello: m as { hello: string; worker: number }, messages })
        else messages.push(m)
      })
      ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      ws.on('error', reject)
    })
  }
}

const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms
  while (!check()) {
    assert.ok(Date.now() < end, 'timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('examples/chat', { timeout: 60_000 }, () => {
  it('two users in one room on two workers: signed-in sockets only, same-origin only, messages reach the other worker, history is kept, signing out closes the socket', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-chat-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const p = spawnCli(t, ['start', 'examples/chat/app.ts', '--port', '0', '--host', '127.0.0.1', '--workers', '2', '--log', 'off', '--graceful-timeout', '2'], { CHAT_DATA_DIR: dir, CARAFE_SECRET: 'chat-example-tests-secret-0123456789abcdefghij' })
    const m = await p.waitFor(/Serving HTTP on \S+ port (\d+)/, 15_000)
    await p.waitFor(/(?:[^]*?\) ready){2}/, 20_000, 'stderr')
    const url = `http://127.0.0.1:${m[1]}`

    const stranger = new Client(url)
    await assert.rejects(stranger.socket('lobby'), /HTTP 401/, 'no socket before signing in')
    const alice = new Client(url)
    const bob = new Client(url)
    await alice.signIn('alice')
    await bob.signIn('bob')
    await assert.rejects(alice.socket('lobby', 'https://evil.example'), /HTTP 403/, 'a cross-site page cannot open a socket as alice')

    const a = await alice.socket('lobby')
    assert.equal(a.hello.hello, 'alice')
    // Connections alternate between the workers: find Bob a socket on the other one.
    let b = await bob.socket('lobby')
    for (let i = 0; i < 6 && b.hello.worker === a.hello.worker; i++) {
      b.ws.close()
      b = await bob.socket('lobby')
    }
    assert.notEqual(b.hello.worker, a.hello.worker, 'the two sockets are on different workers')

    a.ws.send('hello bob')
    await until(() => b.messages.length === 1)
    assert.deepEqual({ ...(b.messages[0] as object), at: undefined }, { from: 'alice', text: 'hello bob', at: undefined })
    await until(() => a.messages.length === 1) // the sender sees it too

    const page = await bob.go('/rooms/lobby')
    assert.equal(page.status, 200)
    assert.match(page.body, /<b>alice<\/b> hello bob/)
    // What a message says is text, never markup.
    a.ws.send('<img src=x onerror=alert(1)>')
    await until(() => b.messages.length === 2)
    assert.match((await bob.go('/rooms/lobby')).body, /&lt;img src=x onerror=alert\(1\)&gt;/)

    // Bob gets a second socket, on Alice's worker: his session now has one on each worker,
    // and the worker that answers the sign-out has one of them, not the other.
    let b2 = await bob.socket('lobby')
    for (let i = 0; i < 6 && b2.hello.worker !== a.hello.worker; i++) {
      b2.ws.close()
      b2 = await bob.socket('lobby')
    }
    assert.equal(b2.hello.worker, a.hello.worker)
    const closed = [b, b2].map((s) => new Promise<number>((resolve) => s.ws.once('close', (code) => resolve(code))))
    const out = await bob.post('/signout', {})
    assert.equal(out.status, 303)
    assert.deepEqual(await Promise.all(closed), [1008, 1008], 'signing out closes the session\'s sockets on every worker')
    assert.equal(a.ws.readyState, a.ws.OPEN, 'Alice stays connected')
    a.ws.close()
    p.child.kill('SIGTERM')
    assert.equal(await p.exited, 0)
  })
})
