import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT, spawnCli } from '../helpers/spawn.js'

describe('examples/chat in a browser (headless Chromium)', { timeout: 120_000 }, () => {
  it('two people sign in through the form, open the same room and talk, on a server with two workers', async (t) => {
    execFileSync('bash', [path.join(ROOT, 'scripts/ensure-chromium.sh')], { stdio: 'inherit' })
    const { chromium } = await import('playwright-core')
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-chat-browser-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const p = spawnCli(t, ['start', 'examples/chat/app.ts', '--port', '0', '--host', '127.0.0.1', '--workers', '2', '--log', 'off', '--graceful-timeout', '2'], { CHAT_DATA_DIR: dir, CARAFE_SECRET: 'chat-browser-tests-secret-0123456789abcdefghij' })
    const m = await p.waitFor(/Serving HTTP on \S+ port (\d+)/, 15_000)
    await p.waitFor(/(?:[^]*?\) ready){2}/, 20_000, 'stderr')
    const url = `http://127.0.0.1:${m[1]}`

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
    t.after(() => browser.close())
    const open = async (name: string) => {
      const context = await browser.newContext() // a browser of its own: its own cookies
      const page = await context.newPage()
      await page.goto(`${url}/`)
      await page.fill('input[name=name]', name)
      await page.fill('input[name=password]', `${name} password`)
      await page.click('form.signin button')
      await page.waitForURL(`${url}/rooms/lobby`)
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Connected.')
      return page
    }
    const alice = await open('alice')
    const bob = await open('bob')
    await alice.fill('#say input[name=text]', 'hello from alice <b>not bold</b>')
    await alice.press('#say input[name=text]', 'Enter')
    await bob.waitForFunction(() => document.querySelector('#messages li:last-child')?.textContent === 'alice hello from alice <b>not bold</b>', undefined, { timeout: 10_000 })
    assert.equal(await bob.locator('#messages li:last-child b').count(), 1, 'the message is text: only the sender name is bold')
    // Reloading shows the history (kept in SQLite, shared by the workers).
    await bob.reload()
    assert.match(await bob.locator('#messages').innerText(), /alice hello from alice <b>not bold<\/b>/)
    // Signing out closes the socket: the page goes back home.
    await bob.click('header form button')
    await bob.waitForURL(`${url}/`)
    p.child.kill('SIGTERM')
    assert.equal(await p.exited, 0)
  })
})
