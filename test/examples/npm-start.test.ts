import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT } from '../helpers/spawn.js'

describe('npm start', { timeout: 60_000 }, () => {
  it('serves Conduit, saying its URL in the first line, on an empty data folder (made, migrated, seeded)', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-npm-start-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const child = spawn('npm', ['start', '--silent'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORT: '0', CONDUIT_DATA_DIR: dir, CARAFE_DEV_SECRET: 'npm-start-test-secret-0123456789abcdefghij' },
      detached: true,
    })
    t.after(() => { try { process.kill(-child.pid!, 'SIGTERM') } catch { /* gone */ } })
    let out = ''
    const first = await new Promise<string>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')))
      })
      child.once('exit', (code) => reject(new Error(`npm start exited (${code}): ${out}`)))
    })
    const m = /^Serving HTTP on :: port (\d+) \(http:\/\/localhost:(\d+)\/\) \.\.\.$/.exec(first)
    assert.ok(m, `the first line names the URL: ${first}`)
    assert.equal(m[1], m[2])
    const home = await fetch(`http://localhost:${m[1]}/`)
    assert.equal(home.status, 200)
    const html = await home.text()
    assert.match(html, /<title>Conduit<\/title>/)
    assert.match(html, /Welcome to Conduit/)
    const api = await fetch(`http://localhost:${m[1]}/api/tags`)
    assert.equal(api.status, 200)
    assert.ok(((await api.json()) as { tags: string[] }).tags.includes('carafe'))
  })
})
