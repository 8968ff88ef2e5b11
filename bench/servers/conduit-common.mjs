// Shared by the Conduit scenarios: a SQLite file of this process's own, made by Conduit's
// migrations and filled with the same 3 authors, 40 articles (two tags each), favorites and
// follows for every server; Conduit's data layer (examples/conduit/lib, TypeScript loaded
// through Carafe's loader, the same for both servers) asks the same queries.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = new URL('../..', import.meta.url).pathname
const dist = process.env.CARAFE_DIST ?? join(root, 'dist')
export const CONDUIT = join(root, 'examples', 'conduit')

/** Make the data folder (conduit.db migrated and filled); returns its path. */
export async function prepareConduit() {
  const { registerTypeScript } = await import(pathToFileURL(join(dist, 'cli', 'ts-register.js')).href)
  await registerTypeScript()
  const { database, migrate } = await import(pathToFileURL(join(dist, 'db', 'index.js')).href)
  const data = await import(pathToFileURL(join(CONDUIT, 'lib', 'data.ts')).href)
  const dir = mkdtempSync(join(tmpdir(), 'carafe-bench-conduit-'))
  const db = database(`sqlite:${join(dir, 'conduit.db')}`)
  db.open(CONDUIT)
  await migrate(db, { dir: join(CONDUIT, 'migrations') })
  const k = db.kysely
  const users = []
  for (const name of ['ana', 'jake', 'li']) users.push(await data.createUser(k, { username: name, email: `${name}@bench.example`, passwordHash: 'x', bio: `${name} <writes> & "reads"` }))
  const tags = ['dragons', 'training', 'sql', 'web', 'bread', 'carafe']
  for (let i = 0; i < 40; i++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString()
    const slug = await data.createArticle(k, users[i % 3].id, { title: `Article number ${i + 1} <with> & "chars"`, description: `What article ${i + 1} is about`, body: 'Lorem ipsum. '.repeat(40), tagList: [tags[i % 6], tags[(i + 1) % 6]] }, at)
    const { id } = await k.selectFrom('articles').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()
    if (i % 2 === 0) await data.setFavorite(k, users[(i + 1) % 3].id, id, true)
  }
  await data.setFollow(k, users[0].id, users[1].id, true)
  await db.close()
  return { dir, data, dist }
}

/** Remove the data folder when the server is stopped. */
export function cleanupOnExit(dir, close) {
  const clean = async () => {
    try { await close?.() } catch {}
    rmSync(dir, { recursive: true, force: true })
    process.exit(0)
  }
  process.once('SIGTERM', clean)
  process.once('SIGINT', clean)
}
