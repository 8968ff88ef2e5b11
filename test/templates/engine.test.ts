import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Carafe, assertTemplateName } from '../../src/index.js'
import { serve } from '../helpers/server.js'
import { captureErrors as quietly } from '../helpers/capture.js'


/** An app root with templates/ and a sibling templates_secret/ whose name starts the same. */
async function site(t: TestContext, files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'carafe-tpl-'))
  t.after(() => rm(root, { recursive: true, force: true }))
  for (const [name, text] of Object.entries({ 'templates_secret/x.html': 'SECRET-TEMPLATE', 'secret.txt': 'SECRET-FILE', ...files })) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true })
    await writeFile(path.join(root, name), text)
  }
  return root
}

describe('templates: names from the request', () => {
  it('never renders a file outside the template folder, whatever the spelling', async (t) => {
    const root = await site(t, { 'templates/ok.html': 'fine', 'templates/dyn.html': '[{% include name %}]' })
    const app = new Carafe({ root })
    app.get('/page/<path:name>', (c) => c.render(String(c.params.name)))
    app.get('/q', (c) => c.render(c.query('name') ?? ''))
    app.get('/dyn', (c) => c.render('dyn.html', { name: c.query('name') }))
    const s = await serve(t, app)
    assert.equal(await (await fetch(`${s.url}/q?name=ok.html`)).text(), 'fine')
    assert.equal(await (await fetch(`${s.url}/dyn?name=ok.html`)).text(), '[fine]')
    const names = [
      '../templates_secret/x.html', '../secret.txt', './../templates_secret/x.html', 'sub/../../templates_secret/x.html',
      path.join(root, 'templates_secret/x.html'), '/../templates_secret/x.html', '..\\templates_secret\\x.html',
      'ok.html\0', '',
    ]
    for (const name of names) {
      for (const url of [`/q?name=${encodeURIComponent(name)}`, `/dyn?name=${encodeURIComponent(name)}`]) {
        const { value: res } = await quietly(() => fetch(s.url + url))
        assert.notEqual(res.status, 200, url)
        assert.doesNotMatch(await res.text(), /SECRET/, url)
      }
    }
    for (const url of ['/page/%2e%2e%2ftemplates_secret%2fx.html', '/page/%2E%2E%2Fsecret.txt', '/page/..%2ftemplates_secret/x.html', '/page/x%2f..%2f..%2fsecret.txt']) {
      const { value: res } = await quietly(() => fetch(s.url + url))
      assert.notEqual(res.status, 200, url)
      assert.doesNotMatch(await res.text(), /SECRET/, url)
    }
  })

  it('checks names with a clear error (ERR_TEMPLATE_NAME)', () => {
    for (const ok of ['a.html', 'pages/a.html', 'a..b.html', '..a.html']) assertTemplateName(ok)
    for (const bad of ['../a.html', 'a/../b.html', '/etc/passwd', 'a\\b.html', 'a\0', '', './a.html', 'a//b.html']) {
      assert.throws(() => assertTemplateName(bad), (e: Error & { code?: string }) => e.code === 'ERR_TEMPLATE_NAME', JSON.stringify(bad))
    }
  })

  it('still resolves ./ and ../ includes that stay inside the folder', async (t) => {
    const root = await site(t, { 'templates/pages/a.html': '<{% include "./b.html" %}|{% include "../top.html" %}>', 'templates/pages/b.html': 'b', 'templates/top.html': 'top' })
    const app = new Carafe({ root })
    app.get('/', (c) => c.render('pages/a.html'))
    const s = await serve(t, app)
    assert.equal(await (await fetch(s.url)).text(), '<b|top>')
  })
})

describe('templates: a missing template', () => {
  it('names the template that is really missing and where it was referenced', async (t) => {
    const root = await site(t, {
      'templates/ext.html': '{% extends "base_missing.html" %}',
      'templates/inc.html': 'a{% include "part_missing.html" %}b',
      'templates/nested.html': 'x{% include "inc.html" %}',
    })
    const app = new Carafe({ root })
    app.get('/<name>', (c) => c.render(`${String(c.params.name)}.html`))
    const s = await serve(t, app)
    const cases: Array<[string, RegExp]> = [
      ['/ext', /template "base_missing\.html" was not found in .*; it is extended or included by "ext\.html"/],
      ['/inc', /template "part_missing\.html" was not found in .*; it is extended or included by "inc\.html"/],
      ['/nested', /template "part_missing\.html" was not found in .*; it is extended or included by "inc\.html", from "nested\.html"/],
      ['/nope', /template "nope\.html" was not found in /],
    ]
    for (const [url, expected] of cases) {
      const { value: res, logged } = await quietly(() => fetch(s.url + url))
      assert.equal(res.status, 500, url)
      assert.match(logged, expected, url)
    }
  })
})

describe('templates: fallback folders (app.addTemplateFallback)', () => {
  it('finds a file in the fallback when the app has none, prefers the app\'s, and still keeps names inside', async (t) => {
    const root = await site(t, {
      'templates/crud/list.html': '{% extends "crud/base.html" %}{% block b %}mine{% endblock %}',
      'defaults/crud/base.html': '<base>{% block b %}{% endblock %}</base>',
      'defaults/crud/list.html': 'default list',
      'defaults/crud/form.html': 'default form [{% include name %}]',
    })
    const app = new Carafe({ root })
    app.addTemplateFallback(path.join(root, 'defaults'))
    app.get('/list', (c) => c.render('crud/list.html'))
    app.get('/form', (c) => c.render('crud/form.html', { name: c.query('name') }))
    const s = await serve(t, app)
    assert.equal(await (await fetch(`${s.url}/list`)).text(), '<base>mine</base>')
    assert.equal(await (await fetch(`${s.url}/form?name=crud/base.html`)).text(), 'default form [<base></base>]')
    for (const name of ['../templates_secret/x.html', '../../templates_secret/x.html', './../../secret.txt', path.join(root, 'secret.txt')]) {
      const { value: res } = await quietly(() => fetch(`${s.url}/form?name=${encodeURIComponent(name)}`))
      assert.notEqual(res.status, 200, name)
      assert.doesNotMatch(await res.text(), /SECRET/, name)
    }
  })
})
