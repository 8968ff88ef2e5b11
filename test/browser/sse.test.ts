import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { Carafe } from '../../src/index.js'
import { ROOT } from '../helpers/spawn.js'

describe('server-sent events in a browser (headless Chromium)', { timeout: 120_000 }, () => {
  it('EventSource reconnects after the stream ends and sends Last-Event-ID, so it goes on where it left off', async (t) => {
    execFileSync('bash', [path.join(ROOT, 'scripts/ensure-chromium.sh')], { stdio: 'inherit' })
    const { chromium } = await import('playwright-core')
    const app = new Carafe()
    const seen: Array<string | undefined> = []
    app.get('/', (c) => c.html(`<!doctype html><html><body><ol id="got"></ol><script>
      const es = new EventSource('/ticks')
      es.addEventListener('tick', (e) => {
        const li = document.createElement('li')
        li.textContent = e.lastEventId + ':' + e.data
        document.getElementById('got').append(li)
        if (e.lastEventId === '6') es.close()
      })
    </script></body></html>`))
    // Three events per connection, then the stream ends; the browser comes back after `retry`.
    app.get('/ticks', (c) => c.sse(async (stream) => {
      seen.push(stream.lastEventId)
      const from = Number(stream.lastEventId ?? 0)
      for (let n = from + 1; n <= from + 3; n++) await stream.send({ event: 'tick', id: n, data: `n${n}`, retry: 100 })
    }))
    const server = await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(() => server.close())
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
    t.after(() => browser.close())
    const page = await browser.newPage()
    await page.goto(`http://127.0.0.1:${server.port}/`)
    await page.waitForFunction(() => document.querySelectorAll('#got li').length === 6, undefined, { timeout: 15_000 })
    assert.deepEqual(await page.locator('#got li').allTextContents(), ['1:n1', '2:n2', '3:n3', '4:n4', '5:n5', '6:n6'])
    assert.deepEqual(seen.slice(0, 2), [undefined, '3'], 'the second connection said where the first one ended')
  })
})
