// Carafe's Conduit (examples/conduit/app.ts, all of it: session, CSRF, auth, the admin, the
// API) on a prepared SQLite file: GET / (the home page, 20 articles, server-rendered) and
// GET /api/articles?limit=20.
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { portFromEnv } from './routes.mjs'
import { CONDUIT, cleanupOnExit, prepareConduit } from './conduit-common.mjs'

const { dir } = await prepareConduit()
Object.assign(process.env, {
  CONDUIT_DATA_DIR: dir, CONDUIT_DEMO: '0', CONDUIT_ADMIN_PASSWORD: 'bench admin password',
  CARAFE_SECRET: 'bench-conduit-secret-0123456789abcdefghijklmnop',
  CARAFE_HOST: '127.0.0.1', CARAFE_PORT: String(portFromEnv()), CARAFE_LOG: 'off',
})
const { default: app } = await import(pathToFileURL(join(CONDUIT, 'app.ts')).href)
cleanupOnExit(dir, () => app.shutdown())
// app.run() printed its "Serving HTTP on 127.0.0.1 port …" line once it listened.
