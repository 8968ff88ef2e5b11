import type { TestContext } from 'node:test'
import { execFileSync, spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { ROOT } from './spawn.js'

/**
 * Run nginx with the recipe of deploy/nginx.conf, for this test's ports and paths: listening
 * on 127.0.0.1:`front`, proxying to the two instances, `/static/` from `staticDir`, and an
 * `X-Upstream` header saying which instance answered. Stopped after the test. Installs nginx
 * when missing (deploy/ensure-nginx.sh).
 */
export async function startNginx(t: TestContext, dir: string, o: { front: number; upstreams: [number, number]; staticDir: string }): Promise<void> {
  execFileSync('bash', [path.join(ROOT, 'deploy/ensure-nginx.sh')], { stdio: 'inherit' })
  let site = await readFile(path.join(ROOT, 'deploy/nginx.conf'), 'utf8')
  site = site.replace(/listen 80;/, `listen 127.0.0.1:${o.front};`)
    .replace('server 127.0.0.1:8001', `server 127.0.0.1:${o.upstreams[0]}`)
    .replace('server 127.0.0.1:8002', `server 127.0.0.1:${o.upstreams[1]}`)
    .replace('alias /srv/myapp/static/;', `alias ${o.staticDir.replace(/\/?$/, '/')};`)
    .replace('proxy_pass http://carafe_app;', 'proxy_pass http://carafe_app;\n        add_header X-Upstream $upstream_addr always;')
  if (!site.includes(`server 127.0.0.1:${o.upstreams[1]}`)) throw new Error('deploy/nginx.conf no longer has the upstream lines this helper rewrites')
  const conf = path.join(dir, 'nginx.conf')
  await writeFile(conf, `user root;\nworker_processes 1;\ndaemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  fastcgi_temp_path ${dir}/fastcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;\n${site}\n}\n`)
  const nginx = spawn('/usr/sbin/nginx', ['-c', conf, '-p', dir], { stdio: ['ignore', 'inherit', 'inherit'] })
  t.after(() => { nginx.kill('SIGTERM') })
}

/** A TCP port nothing listens on right now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1')
  await new Promise((r) => s.once('listening', r))
  const port = (s.address() as net.AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}
