/**
 * The files `carafe new` writes: a guestbook that uses what a first app reaches for
 * (templates, a stylesheet, SQLite with a migration, sessions, CSRF, flash messages, JSON)
 * and a test of it. Kept as plain text, so what a user gets is what is read here.
 */

/** What the generated package.json is made from. */
export interface ProjectSpec {
  /** The package name (the folder's name). */
  name: string
  /** The Carafe package's folder, depended on as `file:<root>`. */
  carafeRoot: string
  /** The drivers the app needs, with Carafe's peer ranges (`better-sqlite3`, `kysely`). */
  drivers: Record<string, string>
  /** The migration's `YYYYMMDDHHMMSS` prefix. */
  stamp: string
}

/** The project's files by path (relative, `/`-separated), in the order they are written. */
export function projectFiles(spec: ProjectSpec): Record<string, string> {
  return {
    'package.json': packageJson(spec),
    'tsconfig.json': TSCONFIG,
    '.gitignore': 'node_modules/\ndata/\n.carafe/\n',
    'README.md': readme(spec.name),
    'app.ts': APP,
    [`migrations/${spec.stamp}_init.ts`]: MIGRATION,
    'templates/base.html': BASE_HTML,
    'templates/home.html': HOME_HTML,
    'static/style.css': STYLE_CSS,
    'test/app.test.ts': TEST,
  }
}

function packageJson(spec: ProjectSpec): string {
  const pkg = {
    name: spec.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: {
      start: 'carafe run app.ts',
      dev: 'carafe run app.ts --reload --debug',
      test: 'carafe test',
    },
    engines: { node: '>=20' },
    dependencies: { carafe: `file:${spec.carafeRoot}`, ...spec.drivers },
    // npm 11 asks which dependencies may run install scripts: better-sqlite3 builds its
    // native module in one.
    allowScripts: { 'better-sqlite3': true },
  }
  return `${JSON.stringify(pkg, null, 2)}\n`
}

const TSCONFIG = `${JSON.stringify({
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noImplicitOverride: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    skipLibCheck: true,
    noEmit: true,
  },
  include: ['**/*.ts'],
  exclude: ['node_modules', 'data'],
}, null, 2)}\n`

const APP = `// A guestbook: the home page lists the entries and has a form to sign it. Pages come from
// templates/, the stylesheet from static/, entries from SQLite (data/app.db; the migration in
// migrations/ makes the table at startup), sessions from data/sessions.db. The form carries a
// CSRF token and a flash message says thanks; /api/entries answers JSON.
//   npm start      serve it on http://localhost:8000/ (PORT=3000 npm start for another port)
//   npm run dev    the same, restarting on changes, with the debug error page
//   npm test       run test/
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Generated, Kysely } from 'kysely'
import { Carafe } from 'carafe'
import { database } from 'carafe/db'
import { session, sqliteStore } from 'carafe/session'
import { csrf } from 'carafe/auth'

// The tables as the migrations in migrations/ made them (npx carafe db types writes this from
// the live database). Generated: the database fills it in when a row is inserted.
interface DB {
  entries: { id: Generated<number>; name: string; message: string; created_at: Generated<string> }
}

// c.db is typed by the tables above in every handler.
declare module 'carafe' {
  interface ContextVariables { db: Kysely<DB> }
}

// Relative paths (templates/, static/, migrations/, data/) resolve against this folder, also
// when a test imports the app.
export const app = new Carafe({ root: path.dirname(fileURLToPath(import.meta.url)), static: { dir: 'static' } })

// DATA_DIR moves the SQLite files (the tests use a fresh folder); DATABASE_URL picks another
// database (postgres://…): carafe db migrate and the other db commands read it too.
const data = process.env.DATA_DIR ?? 'data'
const db = database<DB>(process.env.DATABASE_URL ?? \`sqlite:\${data}/app.db\`, { migrate: true })

app.use(db.middleware())
app.use(session({ store: sqliteStore({ path: \`\${data}/sessions.db\` }), maxAge: '14d' }))
app.use(csrf())

const latest = (c: { db: Kysely<DB> }) =>
  c.db.selectFrom('entries').selectAll().orderBy('id', 'desc').limit(50).execute()

app.get('/', async function home(c) {
  return c.render('home.html', { entries: await latest(c), values: {} })
})

app.post('/', async function sign(c) {
  const f = await c.req.form()
  const values = { name: (f.text('name') ?? '').trim(), message: (f.text('message') ?? '').trim() }
  const errors: string[] = []
  if (values.name === '' || values.name.length > 80) errors.push('Give a name of 1 to 80 characters.')
  if (values.message === '' || values.message.length > 500) errors.push('Write a message of 1 to 500 characters.')
  if (errors.length > 0) return c.render('home.html', { entries: await latest(c), values, errors }, 422)
  await c.db.insertInto('entries').values(values).execute()
  c.flash(\`Thanks for signing, \${values.name}!\`, 'success')
  return c.redirect(c.url('home'), 303)
})

app.get('/api/entries', async function entries(c) {
  return { entries: await latest(c) }
})

app.run({ port: Number(process.env.PORT ?? 8000) })
`

const MIGRATION = `// The guestbook's table. \`npx carafe db new <name>\` writes the next migration; the app runs
// the pending ones at startup (database(..., { migrate: true }) in app.ts).
import { sql, type Kysely } from 'kysely'

// Kysely<any>: a migration runs against the schema as it was when it was written, not
// against today's interface DB.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('entries')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('name', 'varchar(80)', (col) => col.notNull())
    .addColumn('message', 'varchar(500)', (col) => col.notNull())
    .addColumn('created_at', 'timestamp', (col) => col.notNull().defaultTo(sql\`CURRENT_TIMESTAMP\`))
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('entries').execute()
}
`

const BASE_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{% block title %}Guestbook{% endblock %}</title>
  <link rel="stylesheet" href="{{ static('style.css') }}">
</head>
<body>
  <header><a href="{{ url('home') }}">Guestbook</a></header>
  {% for category, message in get_flashed_messages(with_categories=true) %}
    <p class="flash {{ category }}">{{ message }}</p>
  {% endfor %}
  <main>{% block content %}{% endblock %}</main>
  <footer>Made with Carafe &middot; <a href="{{ url('entries') }}">the entries as JSON</a></footer>
</body>
</html>
`

const HOME_HTML = `{% extends "base.html" %}
{% block content %}
  <h1>Sign the guestbook</h1>
  {% for error in errors %}<p class="flash error">{{ error }}</p>{% endfor %}
  <form method="post" action="{{ url('sign') }}">
    {{ csrf_field() }}
    <label>Name <input name="name" value="{{ values.name }}" maxlength="80" required></label>
    <label>Message <textarea name="message" maxlength="500" required>{{ values.message }}</textarea></label>
    <button>Sign</button>
  </form>
  <h2>Entries</h2>
  {% for entry in entries %}
    <article class="entry"><p>{{ entry.message }}</p><small>{{ entry.name }}, {{ entry.created_at }}</small></article>
  {% else %}
    <p>No entries yet: be the first.</p>
  {% endfor %}
{% endblock %}
`

const STYLE_CSS = `body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
header { border-bottom: 1px solid #ddd; padding-bottom: .5rem; font-weight: 600; }
header a { color: inherit; text-decoration: none; }
label { display: block; margin-top: .75rem; }
input, textarea { display: block; width: 100%; box-sizing: border-box; font: inherit; padding: .4rem; }
textarea { min-height: 5rem; }
button { margin-top: .75rem; font: inherit; padding: .4rem 1rem; }
.flash { padding: .5rem .75rem; border-radius: 4px; background: #eef; }
.flash.success { background: #efe; }
.flash.error { background: #fee; }
.entry { border-top: 1px solid #eee; padding: .5rem 0; }
.entry p { margin: 0; white-space: pre-wrap; }
footer { margin-top: 3rem; color: #777; font-size: .9rem; }
`

const TEST = `// npm test runs this with carafe test: node --test, with TypeScript loaded as carafe run
// loads it. The app is tested in-process (testClient sends requests through app.fetch, with
// a cookie jar); run() does nothing inside a test.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { testClient } from 'carafe/testing'

// A fresh data folder for the database and the sessions, set before the app is loaded.
const data = await mkdtemp(path.join(tmpdir(), 'carafe-app-test-'))
process.env.DATA_DIR = data
delete process.env.DATABASE_URL
const { app } = await import('../app.js')

// startup() runs the migrations, as the server does before it listens.
before(() => app.startup())
after(async () => {
  await app.shutdown()
  await rm(data, { recursive: true, force: true })
})

const csrfToken = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? ''

describe('the guestbook', () => {
  it('shows the home page with its stylesheet', async () => {
    const res = await app.request('/')
    assert.equal(res.status, 200)
    const html = await res.text()
    assert.match(html, /<h1>Sign the guestbook<\\/h1>/)
    assert.match(html, /No entries yet/)
    const css = await app.request('/static/style.css')
    assert.equal(css.status, 200)
    assert.match(css.headers.get('content-type') ?? '', /^text\\/css/)
  })

  it('signs the book through the form, with the CSRF token, and says thanks', async () => {
    const client = testClient(app)
    const token = csrfToken(await (await client.get('/')).text())
    assert.notEqual(token, '')
    const res = await client.post('/', { form: { _csrf: token, name: 'Kim', message: 'Hello <there>' } })
    assert.equal(res.status, 303)
    const html = await (await client.get(res.headers.get('location')!)).text()
    assert.match(html, /Thanks for signing, Kim!/)
    assert.match(html, /Hello &lt;there&gt;/)
  })

  it('refuses a form without the token, and asks again for an empty message', async () => {
    const client = testClient(app)
    assert.equal((await client.post('/', { form: { name: 'Eve', message: 'forged' } })).status, 403)
    const token = csrfToken(await (await client.get('/')).text())
    const res = await client.post('/', { form: { _csrf: token, name: 'Lee', message: ' ' } })
    assert.equal(res.status, 422)
    assert.match(await res.text(), /Write a message/)
  })

  it('serves the entries as JSON', async () => {
    const res = await app.request('/api/entries')
    assert.equal(res.status, 200)
    const body = await res.json() as { entries: Array<{ name: string; message: string }> }
    assert.deepEqual(body.entries.map((e) => [e.name, e.message]), [['Kim', 'Hello <there>']])
  })
})
`

function readme(name: string): string {
  return `# ${name}

A [Carafe](node_modules/carafe/README.md) app: a guestbook with pages from templates, a
stylesheet, a SQLite database with migrations, sessions, CSRF-protected forms,
flash messages and a JSON route.

## Run it

\`\`\`sh
npm install
npm start        # http://localhost:8000/ (PORT=3000 npm start for another port)
npm run dev      # restart on changes, debug error pages
npm test         # the tests in test/
\`\`\`

No build step: \`carafe run app.ts\` and \`carafe test\` load TypeScript as they go (types are
stripped, not checked). To check types, \`npm install -D typescript @types/node\` and run
\`npx tsc\` (tsconfig.json is ready).

## What is where

\`\`\`
app.ts              the app: routes, the database, sessions, CSRF
templates/          pages (Jinja-style, Nunjucks): base.html and home.html, which extends it
static/style.css    served at /static/style.css ({{ static('style.css') }} in a template)
migrations/         database migrations, run at startup; npx carafe db new <name> adds one
test/app.test.ts    tests through carafe/testing's in-process client
data/               the SQLite files (app.db, sessions.db), made on the first start; not in git
.carafe/            the development secret that signs cookies under carafe run; not in git
\`\`\`

## Going further

- \`npx carafe --help\` lists the commands: \`carafe routes app.ts\`, \`carafe db status\`,
  \`carafe db migrate\`, \`carafe start\` (production: workers, graceful reloads).
- In production, set \`CARAFE_SECRET\` (make one with \`npx carafe secret\`) and run
  \`npx carafe start app.ts\`; \`DATABASE_URL=postgres://…\` moves the data to PostgreSQL.
- Carafe's documentation, in the installed package: [the README](node_modules/carafe/README.md)
  (routes, handlers, forms, templates, testing, the CLI) and [docs/](node_modules/carafe/docs/):
  [sessions](node_modules/carafe/docs/session.md), [auth](node_modules/carafe/docs/auth.md),
  [CSRF and rate limits](node_modules/carafe/docs/csrf-and-rate-limits.md),
  [databases](node_modules/carafe/docs/db.md), [migrations](node_modules/carafe/docs/migrations.md),
  [production](node_modules/carafe/docs/production.md), [what \`carafe new\` made](node_modules/carafe/docs/new-project.md).
`
}
