import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ROOT, spawnCli } from '../helpers/spawn.js'

/** A 2×2 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64')
/** Where the screenshots go: outside the repository. */
const SHOTS = process.env.CONDUIT_SCREENSHOTS ?? path.join(tmpdir(), 'conduit-screenshots')

describe('examples/conduit in a browser (headless Chromium)', { timeout: 240_000 }, () => {
  it('sign up, write with a picture, edit, comment (live in another browser), favorite, follow, feed, sign out; cross-site posts and non-admins refused', async (t) => {
    execFileSync('bash', [path.join(ROOT, 'scripts/ensure-chromium.sh')], { stdio: 'inherit' })
    const { chromium } = await import('playwright-core')
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-conduit-browser-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    // Two workers: the live comment is written on whichever worker takes the post and reaches
    // the reader's event stream on the other through the supervisor.
    const p = spawnCli(t, ['start', 'examples/conduit/app.ts', '--port', '0', '--host', '127.0.0.1', '--workers', '2', '--log', 'off', '--graceful-timeout', '2'], {
      CONDUIT_DATA_DIR: dir, CONDUIT_ADMIN_PASSWORD: 'admin password for tests', CARAFE_SECRET: 'conduit-browser-tests-secret-0123456789abcdef',
    })
    const m = await p.waitFor(/Serving HTTP on \S+ port (\d+)/, 20_000)
    await p.waitFor(/(?:[^]*?\) ready){2}/, 20_000, 'stderr')
    const url = `http://127.0.0.1:${m[1]}`

    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
    t.after(() => browser.close())
    const shot = (page: import('playwright-core').Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true })

    const signUp = async (name: string, options: { javaScriptEnabled?: boolean } = {}) => {
      const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, ...options })
      const page = await context.newPage()
      await page.goto(`${url}/register`)
      await page.fill('input[name=username]', name)
      await page.fill('input[name=email]', `${name}@example.test`)
      await page.fill('input[name=password]', `${name} password`)
      await page.click('form button')
      await page.waitForURL(`${url}/`)
      assert.match(await page.locator('.flash').innerText(), new RegExp(`Welcome to Conduit, ${name}!`))
      assert.match(await page.locator('nav.navbar').innerText(), new RegExp(name))
      return page
    }

    // ---- ana signs up and writes an article with a picture --------------------------------
    const ana = await signUp('ana_writer')
    await shot(ana, 'home-signed-in')
    await ana.click('a[href="/editor"]')
    await ana.fill('input[name=title]', 'Ünïcode & <Dragons>')
    await ana.fill('input[name=description]', 'A test of everything')
    await ana.fill('textarea[name=body]', '# Hello\n\n<script>window.pwned = 1</script>\n\n[click](javascript:window.pwned=2) <img src=x onerror="window.pwned=3">\n\n**bold**')
    await ana.fill('input[name=tags]', 'dragons testing')
    await ana.setInputFiles('input[name=image]', { name: 'dot.png', mimeType: 'image/png', buffer: PNG })
    await ana.fill('input[name=alt]', 'a green dot')
    await ana.click('form button.btn-primary')
    await ana.waitForURL(/\/article\//)
    const slug1 = new URL(ana.url()).pathname.split('/').pop()!
    assert.equal(decodeURIComponent(slug1), 'unicode-dragons')
    assert.equal(await ana.locator('.banner h1').innerText(), 'Ünïcode & <Dragons>')
    assert.equal(await ana.locator('.article-content h1').innerText(), 'Hello')
    assert.equal(await ana.locator('.article-content strong').innerText(), 'bold')
    assert.equal(await ana.locator('.article-content script').count(), 0)
    assert.equal(await ana.locator('.article-content a[href^="javascript"]').count(), 0)
    assert.equal(await ana.locator('.article-content [onerror]').count(), 0)
    assert.equal(await ana.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined)
    const img = ana.locator('.article-content img[alt="a green dot"]')
    assert.match((await img.getAttribute('src'))!, /^\/uploads\/[0-9a-f]{32}\.png$/)
    await ana.waitForFunction(() => (document.querySelector('.article-content img[alt="a green dot"]') as HTMLImageElement | null)?.naturalWidth === 2)

    // ---- she edits it: a new title is a new address, the old one is gone ------------------
    await ana.click('.banner a:has-text("Edit Article")')
    await ana.waitForURL(/\/editor\//)
    assert.equal(await ana.inputValue('input[name=title]'), 'Ünïcode & <Dragons>')
    await ana.fill('input[name=title]', 'Dragons, edited')
    await ana.click('form button.btn-primary')
    await ana.waitForURL(`${url}/article/dragons-edited`)
    assert.match(await ana.locator('.flash').innerText(), /saved/)
    const gone = await ana.request.get(`${url}/article/${slug1}`)
    assert.equal(gone.status(), 404)
    await shot(ana, 'article-author')

    // ---- bo signs up, favorites it without a reload, follows ana, sees her in his feed ----
    const bo = await signUp('bo_reader')
    await bo.goto(`${url}/article/dragons-edited`)
    const favorite = bo.locator('.banner form[data-favorite] button')
    assert.match(await favorite.innerText(), /Favorite Article\s+0/)
    await bo.evaluate(() => { (window as unknown as { marker: number }).marker = 1 }) // gone if the page reloads
    await favorite.click()
    await bo.waitForFunction(() => document.querySelector('.banner form[data-favorite] .count')?.textContent === '1')
    assert.equal(await bo.evaluate(() => (window as unknown as { marker?: number }).marker), 1, 'favorited without a reload')
    assert.equal(await bo.locator('.article-actions form[data-favorite] .count').innerText(), '1', 'both buttons of the page show the new count')
    await bo.click('.banner form[data-follow] button')
    await bo.waitForFunction(() => document.querySelector('.banner form[data-follow] button')?.textContent?.includes('Unfollow') === true)
    await bo.goto(`${url}/?feed=following`)
    assert.equal(await bo.locator('.tabs a.active').innerText(), 'Your Feed')
    assert.deepEqual(await bo.locator('.article-preview h2').allInnerTexts(), ['Dragons, edited'])
    await shot(bo, 'your-feed')
    await bo.goto(`${url}/profile/bo_reader/favorites`)
    assert.deepEqual(await bo.locator('.article-preview h2').allInnerTexts(), ['Dragons, edited'])

    // ---- a comment appears live on ana's open page, and after a reload with JS off --------
    await ana.goto(`${url}/article/dragons-edited`)
    await ana.waitForFunction(() => (window as unknown as { __conduitLive?: EventSource }).__conduitLive?.readyState === 1)
    await bo.goto(`${url}/article/dragons-edited`)
    await bo.fill('#comment-body', 'Lovely dragons <b>not bold</b>')
    await bo.click('#comment button')
    await bo.waitForURL(/#comment-\d+$/)
    await ana.waitForFunction(() => document.querySelector('.comment-list li .card-text')?.textContent === 'Lovely dragons <b>not bold</b>', undefined, { timeout: 10_000 })
    assert.equal(await ana.locator('.comment-list li .card-text b').count(), 0, 'the comment is text')
    assert.match(await ana.locator('.comment-list li .comment-author').first().innerText(), /bo_reader/)
    const noJs = await browser.newContext({ javaScriptEnabled: false })
    const reader = await noJs.newPage()
    await reader.goto(`${url}/article/dragons-edited`)
    assert.equal(await reader.locator('.comment-list li .card-text').first().innerText(), 'Lovely dragons <b>not bold</b>')
    await shot(reader, 'article-no-js')

    // ---- with JavaScript off, the forms work by redirects ---------------------------------
    const cy = await signUp('cy_nojs', { javaScriptEnabled: false })
    await cy.goto(`${url}/article/dragons-edited`)
    await cy.click('.banner form[data-favorite] button')
    await cy.waitForURL(`${url}/article/dragons-edited`)
    assert.equal(await cy.locator('.banner form[data-favorite] .count').innerText(), '2')
    await cy.fill('#comment-body', 'Without JavaScript')
    await cy.click('#comment button')
    await cy.waitForURL(/#comment-\d+$/)
    assert.equal(await cy.locator('.comment-list li .card-text').first().innerText(), 'Without JavaScript')

    // ---- a cross-site form post is refused, and nothing is written ------------------------
    const evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html')
      res.end(`<form id="f" method="post" action="${url}/article/dragons-edited/comments"><input name="body" value="forged"></form><script>document.getElementById('f').submit()</script>`)
    })
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise<void>((resolve) => evil.close(() => resolve())))
    const evilPage = await bo.context().newPage()
    const refused = evilPage.waitForResponse((r) => r.url() === `${url}/article/dragons-edited/comments`)
    await evilPage.goto(`http://localhost:${(evil.address() as { port: number }).port}/`)
    const answer = await refused
    assert.equal(answer.status(), 403)
    assert.match(await answer.text(), /cross-site|cross-origin/i)
    await bo.goto(`${url}/article/dragons-edited`)
    assert.equal(await bo.locator('.comment-list li .card-text:has-text("forged")').count(), 0)

    // ---- the admin: refused to bo, open to the admin --------------------------------------
    const adminAsBo = await bo.request.get(`${url}/admin/`, { headers: { accept: 'text/html' } })
    assert.equal(adminAsBo.status(), 403)
    const adminContext = await browser.newContext()
    const admin = await adminContext.newPage()
    await admin.goto(`${url}/login`)
    await admin.fill('input[name=email]', 'admin@conduit.example')
    await admin.fill('input[name=password]', 'admin password for tests')
    await admin.click('form button')
    await admin.waitForURL(`${url}/`)
    const adminPage = await admin.goto(`${url}/admin/`)
    assert.equal(adminPage!.status(), 200)
    await shot(admin, 'admin')

    // ---- bo signs out ---------------------------------------------------------------------
    await bo.goto(`${url}/settings`)
    await shot(bo, 'settings')
    await bo.click('button:has-text("sign out")')
    await bo.waitForURL(`${url}/`)
    assert.match(await bo.locator('nav.navbar').innerText(), /Sign in/)
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true })
    const phonePage = await phone.newPage()
    await phonePage.goto(`${url}/`)
    await shot(phonePage, 'home-phone')
    await phonePage.goto(`${url}/article/dragons-edited`)
    await shot(phonePage, 'article-phone')

    p.child.kill('SIGTERM')
    assert.equal(await p.exited, 0)
  })
})
