import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { createPrivateKey } from 'node:crypto'
import { mkdtemp, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { UsageError } from '../../src/cli/args.js'
import { tlsOptionsFromFlags, tlsToEnv } from '../../src/cli/tls-flags.js'
import { selfSignedCert } from '../../src/server/self-signed.js'
import { appDir, CLI, spawnCli, type Spawned } from '../helpers/spawn.js'
import { testCert } from '../helpers/tls.js'

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-k', '--max-time', '5', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => err === null ? resolve(stdout) : reject(new Error(stderr)))
  })
}

async function httpsBanner(p: Spawned): Promise<string> {
  const m = await p.waitFor(/Serving HTTPS on (\S+) port (\d+) \((https:\/\/\S+)\) \.\.\./)
  assert.equal(m[3], `https://${m[1]}:${m[2]}/`)
  return `https://127.0.0.1:${m[2]}`
}

async function servedFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'carafe-tls-site-'))
  await writeFile(path.join(dir, 'a.txt'), 'hello over tls\n')
  return dir
}

describe('tlsOptionsFromFlags', () => {
  it('reads --cert/--key, --self-signed, Python\'s names, and refuses what does not fit', async () => {
    assert.equal(tlsOptionsFromFlags({}), undefined)
    assert.deepEqual(tlsOptionsFromFlags({ cert: 'c.pem', key: 'k.pem' }), { certFile: path.resolve('c.pem'), keyFile: path.resolve('k.pem') })
    assert.deepEqual(tlsOptionsFromFlags({ cert: 'both.pem' }), { certFile: path.resolve('both.pem'), keyFile: path.resolve('both.pem') })
    assert.deepEqual(tlsOptionsFromFlags({ 'tls-cert': '/c', 'tls-key': '/k' }), { certFile: '/c', keyFile: '/k' })
    assert.deepEqual(tlsOptionsFromFlags({ 'self-signed': true }), { selfSigned: true })
    assert.throws(() => tlsOptionsFromFlags({ key: 'k.pem' }), UsageError)
    assert.throws(() => tlsOptionsFromFlags({ 'self-signed': true, cert: 'c.pem' }), UsageError)
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-tls-pw-'))
    await writeFile(path.join(dir, 'pw'), 'sesame\n')
    assert.deepEqual(tlsOptionsFromFlags({ 'tls-cert': '/c', 'tls-key': '/k', 'tls-password-file': path.join(dir, 'pw') }), { certFile: '/c', keyFile: '/k', passphrase: 'sesame' })
    const env: NodeJS.ProcessEnv = {}
    tlsToEnv({ certFile: '/c', keyFile: '/k' }, env)
    assert.deepEqual(env, { CARAFE_TLS_CERT: '/c', CARAFE_TLS_KEY: '/k' })
  })
})

describe('carafe serve with TLS', () => {
  it('serves HTTPS and HTTP/2 with --cert and --key', { timeout: 20_000 }, async (t) => {
    const { certFile, keyFile } = await testCert()
    const p = spawnCli(t, ['serve', '-b', '127.0.0.1', '-p', '0', '--cert', certFile, '--key', keyFile, await servedFolder()])
    const base = await httpsBanner(p)
    assert.equal(await curl(['--http2', '-w', '%{http_version}', `${base}/a.txt`]), 'hello over tls\n2')
    await p.waitFor(/"GET \/a\.txt HTTP\/2\.0" 200/)
  })

  it('takes Python\'s --tls-cert, --tls-key and --tls-password-file for an encrypted key', { timeout: 20_000 }, async (t) => {
    const { certFile, pems } = await testCert()
    const dir = await mkdtemp(path.join(tmpdir(), 'carafe-tls-enc-'))
    const keyFile = path.join(dir, 'key.pem')
    await writeFile(keyFile, createPrivateKey(pems.key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'open sesame' }))
    await writeFile(path.join(dir, 'pw'), 'open sesame\n')
    const p = spawnCli(t, ['serve', '-b', '127.0.0.1', '-p', '0', '--tls-cert', certFile, '--tls-key', keyFile, '--tls-password-file', path.join(dir, 'pw'), await servedFolder()])
    const base = await httpsBanner(p)
    assert.equal(await curl([`${base}/a.txt`]), 'hello over tls\n')
  })

  it('prints one line naming a missing certificate, or a key of another certificate, and exits 1', { timeout: 20_000 }, async (t) => {
    const { certFile } = await testCert()
    const missing = spawnCli(t, ['serve', '-p', '0', '--cert', '/nonexistent/cert.pem', '--key', '/nonexistent/key.pem'])
    assert.equal(await missing.exited, 1)
    assert.equal(missing.stderr(), 'carafe serve: cannot serve HTTPS: cannot read the TLS certificate file /nonexistent/cert.pem: no such file\n')
    const other = await mkdtemp(path.join(tmpdir(), 'carafe-tls-other-'))
    await selfSignedCert(other)
    const mismatch = spawnCli(t, ['serve', '-p', '0', '--cert', certFile, '--key', path.join(other, '.carafe/tls/localhost-key.pem')])
    assert.equal(await mismatch.exited, 1)
    assert.match(mismatch.stderr(), /^carafe serve: cannot serve HTTPS: the TLS key does not match the certificate \([^\n]+\)\n$/)
    const usage = spawnCli(t, ['serve', '--key', 'k.pem'])
    assert.equal(await usage.exited, 2)
    assert.match(usage.stderr(), /--key needs --cert/)
  })

  it('makes a self-signed certificate into the working directory\'s .carafe/ with --self-signed', { timeout: 30_000 }, async (t) => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'carafe-tls-cwd-'))
    const site = await servedFolder()
    const child = spawn(process.execPath, [CLI, 'serve', '-b', '127.0.0.1', '-p', '0', '--self-signed', site], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    t.after(() => { child.kill('SIGKILL') })
    const port = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /Serving HTTPS on \S+ port (\d+)/.exec(out)
        if (m !== null) resolve(m[1]!)
      })
      child.on('exit', (code) => reject(new Error(`exited ${code}`)))
    })
    assert.equal(await curl([`https://127.0.0.1:${port}/a.txt`]), 'hello over tls\n')
    assert.equal((await stat(path.join(cwd, '.carafe/tls/localhost-key.pem'))).mode & 0o777, 0o600)
    await assert.rejects(stat(path.join(site, '.carafe')))
  })
})

describe('carafe run with TLS', () => {
  it('serves the app over HTTPS with --cert and --key', { timeout: 30_000 }, async (t) => {
    const { certFile, keyFile } = await testCert()
    const dir = await appDir()
    const file = path.join(dir, 'app.ts')
    await writeFile(file, `import { Carafe } from 'carafe'\nconst app = new Carafe()\napp.get('/', (c) => c.req.protocol + ' ' + c.req.header('user-agent'))\nexport default app\n`)
    const p = spawnCli(t, ['run', file, '--host', '127.0.0.1', '--port', '0', '--cert', certFile, '--key', keyFile])
    const base = await httpsBanner(p)
    assert.equal(await curl(['--http2', '-A', 'x', '-w', ' %{http_version}', `${base}/`]), 'https x 2')
    assert.equal(await curl(['--http1.1', '-A', 'x', '-w', ' %{http_version}', `${base}/`]), 'https x 1.1')
  })

  it('keeps the --self-signed certificate in the app\'s folder', { timeout: 30_000 }, async (t) => {
    const dir = await appDir()
    const file = path.join(dir, 'app.ts')
    await writeFile(file, `import { Carafe } from 'carafe'\nconst app = new Carafe()\napp.get('/', (c) => c.req.url)\nexport default app\n`)
    const p = spawnCli(t, ['run', file, '--host', '127.0.0.1', '--port', '0', '--self-signed'])
    const base = await httpsBanner(p)
    assert.equal(await curl([`${base}/`]), `${base}/`)
    assert.equal((await stat(path.join(dir, '.carafe/tls/localhost-key.pem'))).mode & 0o777, 0o600)
  })

  it('prints one line for a missing key file and exits 1', { timeout: 30_000 }, async (t) => {
    const { certFile } = await testCert()
    const dir = await appDir()
    const file = path.join(dir, 'app.ts')
    await writeFile(file, `import { Carafe } from 'carafe'\nconst app = new Carafe()\napp.get('/', () => 'ok')\nexport default app\n`)
    const p = spawnCli(t, ['run', file, '--port', '0', '--cert', certFile, '--key', '/nonexistent/key.pem'])
    assert.equal(await p.exited, 1)
    assert.equal(p.stderr(), 'carafe: cannot serve HTTPS: cannot read the TLS key file /nonexistent/key.pem: no such file\n')
  })
})
