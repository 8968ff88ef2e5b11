// What the benchmark runs: the scenarios and the servers. Add to these two lists to add
// a scenario or a server; run.mjs needs no change.
//
// A scenario is
//   { name, title, path, method?, headers?, body?, servers?, expect(status, body, headers) }
//   - path is sent as is (already percent-encoded); method defaults to GET.
//   - headers (object) and body (string) are sent on the check request and by wrk.
//   - servers (optional) limits the scenario to those server names (e.g. static-file
//     scenarios that only some servers take part in).
//   - expect returns true, or a string saying what is wrong. It runs once per server
//     per round, before load; a wrong answer stops the whole run.
//
// A server is either a Node script in bench/servers/
//   { name, file: 'node.mjs', requires? }
// or any command
//   { name, command: 'nginx', args: ['-c', '...', '-g', 'daemon off;'], cwd?, env?, ready? }
//   - '{PORT}' in args is replaced by the port; PORT is also set in the environment.
//   - ready: 'stdout' (default: a line containing 'listening' on stdout) or 'port'
//     (poll until the TCP port accepts connections, for servers that print nothing).
//   - requires: files (relative to bench/) that must exist, with the command that makes
//     them; checked before anything starts.
//   - scenarios (optional) limits the server to those scenario names.
// The first server named 'node' is the baseline for the ratio column.

import { TEXT_TYPE, HELLO_BODY } from './servers/routes.mjs'
import { VALIDATE_BODY, VALIDATE_PATH } from './servers/validate.mjs'

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
]

const peerDeps = (...packages) =>
  packages.map((name) => ({
    path: `node_modules/${name}/package.json`,
    fix: 'npm ci --prefix bench',
  }))

export const servers = [
  { name: 'node', file: 'node.mjs' },
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
  { name: 'hono', file: 'hono.mjs', requires: peerDeps('hono', '@hono/node-server') },
  { name: 'express', file: 'express.mjs', requires: peerDeps('express') },
]
