// `carafe serve static/www` in-process (for bench/profile.sh: the same app the CLI runs, no log).
import { createFolderApp } from '../../dist/static/serve-folder.js'
import { listen } from '../../dist/server/serve.js'
import { fileURLToPath } from 'node:url'
import { portFromEnv } from './routes.mjs'

const port = portFromEnv()
const { app } = createFolderApp(fileURLToPath(new URL('../static/www', import.meta.url)))
await listen(app, { port, host: '127.0.0.1', log: false })
console.log(`carafe-serve listening on 127.0.0.1:${port}`)
