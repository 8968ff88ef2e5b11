// The first start of an empty database writes a few demo authors and articles, so the site
// has something to show, and the admin account. The demo authors' passwords are random
// (nobody signs in as them); the admin's is CONDUIT_ADMIN_PASSWORD, or a random one written
// to data/admin-password.txt (readable by the owner only).
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { hashPassword } from 'carafe/auth'
import { addComment, createArticle, createUser, setFavorite, setFollow, type Db } from './data.js'

const AUTHORS = [
  { username: 'ana', email: 'ana@conduit.example', bio: 'I write about the web, slowly.' },
  { username: 'jake', email: 'jake@conduit.example', bio: 'I work at statefarm.' },
  { username: 'li', email: 'li@conduit.example', bio: 'Databases by day, bread by night.' },
]

const ARTICLES: Array<{ by: number; title: string; description: string; tags: string[]; body: string }> = [
  {
    by: 0, title: 'Welcome to Conduit', description: 'A tour of this demo, built with Carafe.', tags: ['carafe', 'welcome'],
    body: `Conduit is a small Medium-like site, specified by the [RealWorld project](https://github.com/gothinkster/realworld) so that frameworks can be compared on the same job.

This one is built with **Carafe**: the pages are rendered on the server, forms carry a CSRF token, the session lives in SQLite, and the same data is served as a JSON API under \`/api\`.

## Try it

1. Sign up (top right).
2. Write an article: Markdown works, and you can add a picture.
3. Follow an author and read *Your Feed*.

Everything works with JavaScript off; with it on, favoriting needs no reload and new comments appear as they are written.`,
  },
  {
    by: 1, title: 'How to train your dragon', description: 'Ever wonder how?', tags: ['dragons', 'training'],
    body: 'You have to believe.\n\n> It takes a Jacobian.\n\nStart small: a lizard, then a *larger* lizard.',
  },
  {
    by: 2, title: 'Indexes are a promise', description: 'What an index costs, and what it gives back.', tags: ['databases', 'sql'],
    body: 'An index is a promise the database keeps on every write, so that reads can be fast.\n\n```sql\nCREATE INDEX articles_created ON articles (created_at, id);\n```\n\nKeep the promises you need, and no others.',
  },
  {
    by: 0, title: 'Server-rendered pages still win', description: 'Fast first paint, no spinner, works without JavaScript.', tags: ['web', 'carafe'],
    body: 'A page that arrives whole is read sooner. Add JavaScript where it helps — a button that needs no reload — and nowhere else.',
  },
  {
    by: 2, title: 'Sourdough for programmers', description: 'A starter is a long-running process.', tags: ['bread'],
    body: 'Feed it on a schedule, watch its logs (bubbles), and restart it from a backup when it crashes.',
  },
  {
    by: 1, title: 'Dragons and databases', description: 'Both hoard things.', tags: ['dragons', 'databases'],
    body: 'A dragon sleeps on its gold; a database on its pages. Neither likes to be woken by a full table scan.',
  },
]

/** Seed an empty database (no users yet); a no-op otherwise. Two processes at once: one wins, the other finds users and stops. */
export async function seed(db: Db, dataDir: string, options: { demo: boolean }): Promise<void> {
  if (await db.selectFrom('users').select('id').limit(1).executeTakeFirst() !== undefined) return
  const given = process.env.CONDUIT_ADMIN_PASSWORD
  const adminPassword = given ?? randomBytes(12).toString('base64url')
  const hashes = await Promise.all([adminPassword, ...AUTHORS.map(() => randomBytes(24).toString('base64url'))].map((p) => hashPassword(p)))
  try {
    await db.transaction().execute(async (tx) => {
      await createUser(tx, { email: 'admin@conduit.example', username: 'admin', passwordHash: hashes[0]!, bio: 'Keeps the lights on.', roles: ['admin'] })
      if (!options.demo) return
      const users = []
      for (const [i, a] of AUTHORS.entries()) users.push(await createUser(tx, { ...a, passwordHash: hashes[i + 1]! }))
      // Spread the articles over the last days, oldest first.
      const start = Date.now() - ARTICLES.length * 86_400_000
      const slugs: string[] = []
      for (const [i, a] of ARTICLES.entries()) slugs.push(await createArticle(tx, users[a.by]!.id, { title: a.title, description: a.description, body: a.body, tagList: a.tags }, new Date(start + i * 86_400_000).toISOString()))
      const id = async (slug: string): Promise<number> => (await tx.selectFrom('articles').select('id').where('slug', '=', slug).executeTakeFirstOrThrow()).id
      await setFavorite(tx, users[1]!.id, await id(slugs[0]!), true)
      await setFavorite(tx, users[2]!.id, await id(slugs[0]!), true)
      await setFavorite(tx, users[0]!.id, await id(slugs[2]!), true)
      await setFollow(tx, users[0]!.id, users[2]!.id, true)
      await addComment(tx, await id(slugs[0]!), users[1]!.id, 'Nice tour. The feed is my favourite part.')
      await addComment(tx, await id(slugs[2]!), users[0]!.id, 'And drop the ones nobody reads!')
    })
  } catch (e) {
    if (await db.selectFrom('users').select('id').limit(1).executeTakeFirst() !== undefined) return // another process seeded it
    throw e
  }
  if (given === undefined) {
    await mkdir(dataDir, { recursive: true })
    await writeFile(path.join(dataDir, 'admin-password.txt'), `admin@conduit.example\n${adminPassword}\n`, { mode: 0o600 })
  }
}
