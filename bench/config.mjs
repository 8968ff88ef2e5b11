// What the benchmark runs: the scenarios and the servers. Add to these two lists to add
// a scenario or a server; run.mjs needs no change.
//
// A scenario is
//   { name, title, path, method?, headers?, body?, servers?, baseline?, prepare?,
//     expect(status, body, headers, raw) }
//   - path is sent as is (already percent-encoded); method defaults to GET.
//   - headers (object) and body (string) are sent on the check request and by wrk.
//   - servers (optional) limits the scenario to those server names (e.g. static-file
//     scenarios that only some servers take part in).
//   - baseline (optional, default 'node'): the server the "vs" column divides by.
//   - prepare (optional): a function run once at the start of a run that has this
//     scenario (makes the static fixtures).
//   - expect returns true, or a string saying what is wrong. body is the answer decoded
//     as UTF-8, raw the exact bytes (a Buffer). It runs once per server per round, before
//     load; a wrong answer stops the whole run.
//
// A server is either a Node script in bench/servers/
//   { name, file: 'node.mjs', requires? }
// or any command
//   { name, command: 'nginx', args: ['-c', '...', '-g', 'daemon off;'], cwd?, env?, ready?,
//     readyText?, requires?, install?, prepare?, stderr? }
//   - '{PORT}' in args is replaced by the port; PORT is also set in the environment.
//     '{TMP}' is replaced by a fresh empty folder for this start, removed after it.
//   - ready: 'stdout' (default: a line containing readyText, default 'listening', on
//     stdout) or 'port' (poll until the TCP port accepts connections, for servers that
//     print nothing).
//   - requires: files (relative to bench/, or absolute) that must exist, with the command
//     that makes them; checked before anything starts, for the servers that will run.
//   - install: how to get `command` when it is not there (said in the error).
//   - prepare({ port, tmp, benchDir }): runs before each start (writes nginx's config).
//   - stderr: 'ignore' sends the server's stderr to /dev/null (a server that logs every
//     request there and cannot be told not to).
//   - scenarios (optional) limits the server to those scenario names.
// The server named 'node' is the baseline for the ratio column, unless the scenario
// names another (the static-file scenarios compare with nginx).

import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TEXT_TYPE, HELLO_BODY } from './servers/routes.mjs'
import { VALIDATE_BODY, VALIDATE_PATH } from './servers/validate.mjs'
import { entryName, fixtureFiles, LIST_COUNT, makeFixtures, WWW_DIR } from './static/make-fixtures.mjs'

/**
 * Expect status 200, this exact body and a content-type equal to one of `wantTypes`
 * (compared case-insensitively, spaces ignored).
 */
function expectExact(wantBody, ...wantTypes) {
  return (status, body, headers) => {
    if (status !== 200) return `status ${status}, want 200`
    if (body !== wantBody) return `body ${JSON.stringify(body)}, want ${JSON.stringify(wantBody)}`
    const type = normalizeType(headers['content-type'])
    if (!wantTypes.some((want) => normalizeType(want) === type)) {
      const want = wantTypes.map((t) => JSON.stringify(t)).join(' or ')
      return `content-type ${JSON.stringify(headers['content-type'])}, want ${want}`
    }
    return true
  }
}

function normalizeType(value) {
  return String(value ?? '').toLowerCase().replace(/\s+/g, '')
}

const GREET_NAME = '나의 비밀 방'

// ---------------------------------------------------------------- static files

const STATIC_SERVERS = ['node-static', 'node-static-batched', 'carafe-serve', 'carafe-serve@base', 'python', 'http-server', 'serve', 'sirv', 'nginx', 'nginx-sendfile-off']
const STATIC_SCENARIOS = ['file1k', 'file1m', 'list200']
const SESSION_SERVERS = ['carafe-session', 'carafe-session@base', 'fastify-session', 'express-session']
const SESSION_SCENARIOS = ['session', 'session-redis']
const ME_BODY = JSON.stringify({ id: 42, name: 'Kim' })
const DB_SERVERS = ['carafe-db', 'carafe-db@base', 'fastify-db', 'node-db']
const DB_SCENARIOS = ['db-row-sqlite', 'db-list-sqlite', 'db-row-pg', 'db-list-pg']

const CONDUIT_SERVERS = ['carafe-conduit', 'fastify-conduit']

/** Conduit's home page with the twenty newest of bench/servers/conduit-common.mjs's articles, escaped. */
function expectConduitHome(status, body) {
  if (status !== 200) return `status ${status}, want 200 (${body.slice(0, 200)})`
  const titles = [...body.matchAll(/<h2>(Article number \d+) &lt;with&gt; &amp; &quot;chars&quot;<\/h2>/g)].map((m) => m[1])
  if (titles.length !== 20 || titles[0] !== 'Article number 40' || titles[19] !== 'Article number 21') return `want the 20 newest articles, escaped; got ${titles.length}: ${titles.slice(0, 3)}`
  return /Popular Tags/.test(body) ? true : 'no popular tags'
}

/** The RealWorld list of the twenty newest articles, without bodies. */
function expectConduitApi(status, body) {
  if (status !== 200) return `status ${status}, want 200 (${body.slice(0, 200)})`
  let out
  try { out = JSON.parse(body) } catch { return `not JSON: ${body.slice(0, 100)}` }
  const a = out.articles?.[0]
  if (out.articlesCount !== 40 || out.articles.length !== 20) return `want 20 of 40 articles, got ${out.articles?.length} of ${out.articlesCount}`
  if (a.title !== 'Article number 40 <with> & "chars"' || 'body' in a || 'id' in a || a.author?.username !== 'ana' || !Array.isArray(a.tagList)) return `wrong first article ${JSON.stringify(a).slice(0, 200)}`
  return true
}

/** The row /notes/42 of bench/servers/db-common.mjs, as JSON. */
function expectRow(status, body) {
  if (status !== 200) return `status ${status}, want 200 (${body.slice(0, 200)})`
  let row
  try { row = JSON.parse(body) } catch { return `not JSON: ${body.slice(0, 100)}` }
  return row.id === 42 && row.title === 'Note number 42 <with> & "chars"' ? true : `wrong row ${body.slice(0, 100)}`
}

/** The twenty newest notes as HTML, escaped. */
function expectList(status, body) {
  if (status !== 200) return `status ${status}, want 200 (${body.slice(0, 200)})`
  const items = body.match(/<li>/g)?.length ?? 0
  if (items !== 20) return `${items} list items, want 20`
  return body.includes('Note number 100 &lt;with&gt; &amp; &quot;chars&quot;') ? true : 'titles not escaped as expected'
}

/** Status 200, exactly the fixture's bytes, and a content-type starting with `typePrefix`. */
function expectFile(rel, typePrefix) {
  return (status, _body, headers, raw) => {
    if (status !== 200) return `status ${status}, want 200`
    const want = fixtureFiles().get(rel)
    if (raw.length !== want.length) return `${raw.length} bytes, want ${want.length}`
    if (!raw.equals(want)) return `${raw.length} bytes, but not the bytes of static/www/${rel}`
    if (!normalizeType(headers['content-type']).startsWith(typePrefix)) {
      return `content-type ${JSON.stringify(headers['content-type'])}, want ${typePrefix}...`
    }
    return true
  }
}

/** An HTML listing of list200/ naming every entry (the servers' HTML differs otherwise). */
function expectListing(status, body, headers) {
  if (status !== 200) return `status ${status}, want 200`
  if (!normalizeType(headers['content-type']).startsWith('text/html')) {
    return `content-type ${JSON.stringify(headers['content-type'])}, want text/html`
  }
  for (let i = 1; i <= LIST_COUNT; i++) {
    if (!body.includes(entryName(i))) return `listing without ${entryName(i)} (${body.length} bytes)`
  }
  return true
}

const NGINX = '/usr/sbin/nginx'

// nginx: the template filled in per start, into the runner's {TMP} folder.
let nginxInfo = null
function writeNginxConf({ port, tmp, benchDir }, sendfile = 'on') {
  // The *_temp_path lines, only for modules this binary has (nginx-light lacks some), so
  // nginx creates nothing under /var/lib/nginx.
  nginxInfo ??= spawnSync(NGINX, ['-V'], { encoding: 'utf8' }).stderr ?? ''
  const tempPaths = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .filter((m) => m === 'client_body' || !nginxInfo.includes(`--without-http_${m}_module`))
    .map((m) => `    ${m}_temp_path {TMP}/${m}_temp;`)
    .join('\n')
  const conf = readFileSync(join(benchDir, 'static', 'nginx.conf.template'), 'utf8')
    .replaceAll('{TEMP_PATHS}', tempPaths)
    .replaceAll('{PORT}', String(port))
    .replaceAll('{ROOT}', WWW_DIR)
    .replaceAll('{TMP}', tmp)
    .replaceAll('{SENDFILE}', sendfile)
  writeFileSync(join(tmp, 'nginx.conf'), conf)
}

export const scenarios = [
  {
    name: 'hello',
    title: 'plain text, static route',
    path: '/hello',
    expect: expectExact(HELLO_BODY, TEXT_TYPE),
  },
  {
    name: 'json',
    title: 'two URL params in a 50-route table, JSON response',
    path: '/users/1234/posts/5678',
    expect: expectExact(
      JSON.stringify({ userId: '1234', postId: '5678' }),
      // JSON is UTF-8 by definition (RFC 8259), so the charset parameter is optional.
      'application/json; charset=utf-8',
      'application/json',
    ),
  },
  {
    name: 'greet',
    title: 'percent-encoded UTF-8 URL param, text response',
    path: '/greet/%EB%82%98%EC%9D%98%20%EB%B9%84%EB%B0%80%20%EB%B0%A9', // 나의 비밀 방
    expect: expectExact(`Hello, ${GREET_NAME}`, TEXT_TYPE),
  },
  {
    name: 'validate',
    title: 'POST a 1 KiB JSON body, validate it against a schema, echo it',
    path: VALIDATE_PATH,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: VALIDATE_BODY,
    expect: (status, body, headers) => {
      if (status !== 200) return `status ${status}, want 200 (${body.slice(0, 200)})`
      if (body !== VALIDATE_BODY) return `body ${JSON.stringify(body.slice(0, 80))}…, want the posted document`
      if (!normalizeType(headers['content-type']).startsWith('application/json')) return `content-type ${headers['content-type']}`
      return true
    },
  },
  // Sessions: each server's POST /login logs user 42 in (the runner keeps the cookie it
  // sets and sends it with every request); GET /me loads the session, checks the login and
  // answers JSON. Against Fastify + @fastify/session.
  {
    name: 'session',
    title: 'GET with a session cookie: load the session (memory store), check the login, JSON',
    path: '/me',
    login: '/login',
    servers: SESSION_SERVERS,
    baseline: 'fastify-session',
    expect: expectExact(ME_BODY, 'application/json; charset=utf-8', 'application/json'),
  },
  {
    name: 'session-redis',
    title: 'the same with each framework\'s Redis store (127.0.0.1:6379)',
    path: '/me',
    login: '/login',
    servers: SESSION_SERVERS,
    baseline: 'fastify-session',
    expect: expectExact(ME_BODY, 'application/json; charset=utf-8', 'application/json'),
  },
  // A database: each server makes its own table of 100 notes (SQLite in a temp folder, or
  // PostgreSQL on 127.0.0.1:5432) and runs the same Kysely queries; against Fastify.
  ...['sqlite', 'pg'].flatMap((engine) => [
    {
      name: `db-row-${engine}`,
      title: `one row by primary key as JSON (${engine === 'pg' ? 'PostgreSQL' : 'SQLite'}, Kysely)`,
      path: '/notes/42',
      servers: DB_SERVERS,
      baseline: 'fastify-db',
      expect: expectRow,
    },
    {
      name: `db-list-${engine}`,
      title: `twenty rows rendered as HTML with a Nunjucks template (${engine === 'pg' ? 'PostgreSQL' : 'SQLite'})`,
      path: '/notes',
      servers: DB_SERVERS,
      baseline: 'fastify-db',
      expect: expectList,
    },
  ]),
  // The demo site: Carafe's whole Conduit app (examples/conduit) against a Fastify twin of
  // the same two routes on the same data layer, SQLite file and templates.
  {
    name: 'conduit-home',
    title: 'Conduit home page: 20 articles from SQLite, server-rendered',
    path: '/',
    servers: CONDUIT_SERVERS,
    baseline: 'fastify-conduit',
    expect: expectConduitHome,
  },
  {
    name: 'conduit-api',
    title: 'Conduit GET /api/articles?limit=20 (JSON)',
    path: '/api/articles?limit=20',
    servers: CONDUIT_SERVERS,
    baseline: 'fastify-conduit',
    expect: expectConduitApi,
  },
  // Static files (bench/static/www, made by static/make-fixtures.mjs), against nginx.
  {
    name: 'file1k',
    title: 'static file, 1 KiB text',
    path: '/file-1k.txt',
    servers: STATIC_SERVERS,
    baseline: 'nginx',
    prepare: makeFixtures,
    expect: expectFile('file-1k.txt', 'text/plain'),
  },
  {
    name: 'file1m',
    title: 'static file, 1 MiB binary',
    path: '/file-1m.bin',
    servers: STATIC_SERVERS,
    baseline: 'nginx',
    prepare: makeFixtures,
    expect: expectFile('file-1m.bin', 'application/octet-stream'),
  },
  {
    name: 'list200',
    title: 'directory listing, 200 entries',
    path: '/list200/',
    servers: STATIC_SERVERS,
    baseline: 'nginx',
    prepare: makeFixtures,
    expect: expectListing,
  },
]

const peerDeps = (...packages) =>
  packages.map((name) => ({
    path: `node_modules/${name}/package.json`,
    fix: 'npm ci --prefix bench',
  }))

export const servers = [
  { name: 'node', file: 'node.mjs' },
  {
    // Not a peer: raw node:http writing each turn's responses together, as Carafe does.
    name: 'node-batched',
    file: 'node.mjs',
    env: { BENCH_NODE_BATCH: '1' },
    scenarios: ['hello', 'json', 'greet'],
  },
  {
    name: 'carafe',
    file: 'carafe.mjs',
    requires: [{ path: '../dist/index.js', fix: 'npm run build (at the repo root)' }],
  },
  {
    name: 'carafe-log',
    file: 'carafe-log.mjs',
    scenarios: ['hello'],
    requires: [{ path: '../dist/index.js', fix: 'npm run build (at the repo root)' }],
  },
  { name: 'fastify', file: 'fastify.mjs', requires: peerDeps('fastify') },
  {
    name: 'carafe-session',
    file: 'session-carafe.mjs',
    scenarios: SESSION_SCENARIOS,
    requires: [{ path: '../dist/auth/index.js', fix: 'npm run build (at the repo root)' }],
  },
  {
    name: 'carafe-db',
    file: 'db-carafe.mjs',
    scenarios: DB_SCENARIOS,
    requires: [{ path: '../dist/db/index.js', fix: 'npm run build (at the repo root)' }],
  },
  { name: 'fastify-db', file: 'db-fastify.mjs', scenarios: DB_SCENARIOS, requires: peerDeps('fastify') },
  { name: 'carafe-conduit', file: 'conduit-carafe.mjs', readyText: 'Serving HTTP', scenarios: ['conduit-home', 'conduit-api'], requires: [{ path: '../dist/cli/ts-register.js', fix: 'npm run build (at the repo root)' }] },
  { name: 'fastify-conduit', file: 'conduit-fastify.mjs', scenarios: ['conduit-home', 'conduit-api'], requires: peerDeps('fastify', '@fastify/cors') },
  // Not a peer: raw node:http around the same queries (the bare driver call).
  { name: 'node-db', file: 'db-node.mjs', scenarios: DB_SCENARIOS },
  { name: 'fastify-session', file: 'session-fastify.mjs', scenarios: SESSION_SCENARIOS, requires: peerDeps('fastify', '@fastify/session', '@fastify/cookie', 'connect-redis', 'redis') },
  { name: 'express-session', file: 'session-express.mjs', scenarios: SESSION_SCENARIOS, requires: peerDeps('express', 'express-session', 'connect-redis', 'redis') },
  { name: 'hono', file: 'hono.mjs', requires: peerDeps('hono', '@hono/node-server') },
  { name: 'express', file: 'express.mjs', requires: peerDeps('express') },

  // Static-file servers: one process each, serving bench/static/www on 127.0.0.1, no
  // request log, no compression, no max-age (clients would revalidate every time).
  {
    // Not a peer: the floor for a Node file server (one cached file, statSync, no routing).
    name: 'node-static',
    file: 'node-static.mjs',
    scenarios: ['file1k'],
  },
  {
    // Not a peer: node-static answering each turn's requests together after one statSync,
    // the design carafe serve uses; the floor for it.
    name: 'node-static-batched',
    file: 'node-static.mjs',
    env: { BENCH_NODE_BATCH: '1' },
    scenarios: ['file1k'],
  },
  {
    name: 'carafe-serve',
    command: process.execPath,
    args: ['../dist/cli/main.js', 'serve', 'static/www', '--port', '{PORT}', '-b', '127.0.0.1', '-q'],
    readyText: 'Serving HTTP on',
    scenarios: STATIC_SCENARIOS,
    requires: [{ path: '../dist/cli/main.js', fix: 'npm run build (at the repo root)' }],
  },
  {
    // Debian's Python, run as is: HTTP/1.0, so it closes the connection after each answer
    // and wrk reconnects (--protocol HTTP/1.1 keeps it open, but then each answer stalls
    // ~40 ms on Nagle + delayed ACK: ~300 req/s at 10 % CPU). It logs every request to
    // stderr with no switch to stop it: the runner sends that to /dev/null.
    name: 'python',
    command: '/usr/bin/python3',
    args: ['-m', 'http.server', '{PORT}', '--bind', '127.0.0.1', '--directory', 'static/www'],
    ready: 'port',
    stderr: 'ignore',
    install: 'apt-get install python3',
    scenarios: STATIC_SCENARIOS,
  },
  {
    // -s: no log; -c-1: no max-age (no-cache); gzip is off by default.
    name: 'http-server',
    command: process.execPath,
    args: ['node_modules/http-server/bin/http-server', 'static/www', '-p', '{PORT}', '-a', '127.0.0.1', '-s', '-c-1'],
    ready: 'port',
    scenarios: STATIC_SCENARIOS,
    requires: peerDeps('http-server'),
  },
  {
    // vercel's serve: -L no request log, -u no compression, -n no clipboard; no update check.
    name: 'serve',
    command: process.execPath,
    args: ['node_modules/serve/build/main.js', 'static/www', '-l', 'tcp://127.0.0.1:{PORT}', '-L', '-u', '-n', '--no-port-switching'],
    env: { NO_UPDATE_CHECK: '1' },
    readyText: 'Accepting connections',
    scenarios: STATIC_SCENARIOS,
    requires: peerDeps('serve'),
  },
  {
    // sirv-cli: -q no log, -e ETag (as the others send one). It has no directory listings,
    // so it sits out list200. It reads the folder once at start-up (production mode).
    name: 'sirv',
    command: process.execPath,
    args: ['node_modules/sirv-cli/bin.js', 'static/www', '--port', '{PORT}', '--host', '127.0.0.1', '-q', '-e'],
    ready: 'port',
    scenarios: ['file1k', 'file1m'],
    requires: peerDeps('sirv-cli'),
  },
  {
    // Debian's nginx, one process (master_process off), config from static/nginx.conf.template.
    name: 'nginx',
    command: NGINX,
    args: ['-p', '{TMP}/', '-c', '{TMP}/nginx.conf', '-e', '{TMP}/error.log'],
    prepare: writeNginxConf,
    ready: 'port',
    install: 'apt-get install nginx-light',
    scenarios: STATIC_SCENARIOS,
  },
  {
    // The same nginx with its compiled-in default, `sendfile off`: for small files a
    // read() into its buffer and one writev() cost less than sendfile(), so this is
    // nginx's best on file1k (on file1m sendfile wins).
    name: 'nginx-sendfile-off',
    command: NGINX,
    args: ['-p', '{TMP}/', '-c', '{TMP}/nginx.conf', '-e', '{TMP}/error.log'],
    prepare: (info) => writeNginxConf(info, 'off'),
    ready: 'port',
    install: 'apt-get install nginx-light',
    scenarios: STATIC_SCENARIOS,
  },
  ...baseBuildServers(),
]

/**
 * With `BENCH_BASE=/path/to/an/older/checkout` (built: its dist/ exists), the run also
 * has `carafe@base` and `carafe-serve@base` from that build, so a change is measured old
 * against new in the same interleaved rounds:
 *   git worktree add /tmp/base main && (cd /tmp/base && npm ci && npm run build)
 *   BENCH_BASE=/tmp/base node bench/run.mjs --only carafe,carafe@base
 */
function baseBuildServers() {
  const base = process.env.BENCH_BASE
  if (base === undefined || base === '') return []
  const dist = join(base, 'dist')
  return [
    {
      name: 'carafe@base',
      file: 'carafe.mjs',
      env: { CARAFE_DIST: dist },
      requires: [{ path: join(dist, 'index.js'), fix: `npm run build in ${base}` }],
    },
    {
      name: 'carafe-session@base',
      file: 'session-carafe.mjs',
      env: { CARAFE_DIST: dist },
      scenarios: SESSION_SCENARIOS,
      requires: [{ path: join(dist, 'auth', 'index.js'), fix: `npm run build in ${base} (a build with carafe/auth)` }],
    },
    {
      name: 'carafe-db@base',
      file: 'db-carafe.mjs',
      env: { CARAFE_DIST: dist },
      scenarios: DB_SCENARIOS,
      requires: [{ path: join(dist, 'db', 'index.js'), fix: `npm run build in ${base} (a build with carafe/db)` }],
    },
    {
      name: 'carafe-serve@base',
      command: process.execPath,
      args: [join(dist, 'cli', 'main.js'), 'serve', 'static/www', '--port', '{PORT}', '-b', '127.0.0.1', '-q'],
      readyText: 'Serving HTTP on',
      scenarios: STATIC_SCENARIOS,
      requires: [{ path: join(dist, 'cli', 'main.js'), fix: `npm run build in ${base}` }],
    },
  ]
}
