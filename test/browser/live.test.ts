import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT, spawnCli, waitForServer } from '../helpers/spawn.js'

const PAGE = (word: string): string => `<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body><h1>${word}</h1></body></html>\n`

describe('live reload in a browser (headless Chromium)', { timeout: 120_000 }, () => {
  it('a stylesheet change swaps the stylesheet without reloading; an HTML change reloads the page', async (t) => {
    execFileSync('bash', [path.join(ROOT, 'scripts/ensure-chromium.sh')], { stdio: 'inherit' })
    const { chromium } = await import('playwright-core')
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-live-browser-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    await writeFile(path.join(dir, 'index.html'), PAGE('one'))
    await writeFile(path.join(dir, 'style.css'), 'h1 { color: rgb(255, 0, 0) }\n')
    const p = spawnCli(t, ['serve', dir, '--port', '0', '--bind', '127.0.0.1', '--live', '-q'])
    const url = await waitForServer(p)

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
    t.after(() => browser.close())
    const page = await browser.newPage()
    await page.goto(`${url}/`)
    const color = (): Promise<string> => page.evaluate(() => getComputedStyle(document.querySelector('h1')!).color)
    assert.equal(await color(), 'rgb(255, 0, 0)')
    // Wait until the page's event stream is open (the server said hello), then mark the page.
    await page.waitForFunction(() => (window as unknown as { __carafeLive?: string }).__carafeLive !== undefined)
    await page.evaluate(() => { (window as unknown as { mark: number }).mark = 1 })
    await new Promise((r) => setTimeout(r, 300))

    await writeFile(path.join(dir, 'style.css'), 'h1 { color: rgb(0, 0, 255) }\n')
    await page.waitForFunction(() => getComputedStyle(document.querySelector('h1')!).color === 'rgb(0, 0, 255)', undefined, { timeout: 10_000 })
    assert.equal(await page.evaluate(() => (window as unknown as { mark?: number }).mark), 1, 'the page was not reloaded for a stylesheet')

    await writeFile(path.join(dir, 'index.tmp'), PAGE('two'))
    await rename(path.join(dir, 'index.tmp'), path.join(dir, 'index.html'))
    await page.waitForFunction(() => document.querySelector('h1')?.textContent === 'two', undefined, { timeout: 10_000 })
    assert.equal(await page.evaluate(() => (window as unknown as { mark?: number }).mark), undefined, 'the page was reloaded')
  })
})
