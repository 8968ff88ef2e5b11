import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_IGNORES, ignoreMatcher } from '../../src/cli/ignore.js'

describe('ignoreMatcher', () => {
  it('matches the default ignores at any depth and leaves sources alone', () => {
    const ignored = ignoreMatcher(DEFAULT_IGNORES)
    for (const p of ['node_modules/x/index.js', '.git/HEAD', '.carafe/secret', 'uploads/a.png', 'api/uploads/b.png', 'data/x.json', 'app.db', 'db/app.db-wal', 'app.db-shm', 'app.db-journal', 'a.sqlite3', 'x.swp', 'app.ts~']) {
      assert.equal(ignored(p), true, p)
    }
    for (const p of ['app.ts', 'templates/index.html', 'database.ts', 'upload.ts', 'metadata/x.ts']) assert.equal(ignored(p), false, p)
  })

  it('reads user globs like gitignore: * within a folder, ** across, / anchors to the app folder', () => {
    const ignored = ignoreMatcher(['*.csv', 'var/cache/**', 'logs/', 'tmp?'])
    assert.equal(ignored('report.csv'), true)
    assert.equal(ignored('a/b/report.csv'), true)
    assert.equal(ignored('var/cache/x/y.bin'), true)
    assert.equal(ignored('src/var/cache/x.bin'), false)
    assert.equal(ignored('logs/today.txt'), true)
    assert.equal(ignored('tmp1/x'), true)
    assert.equal(ignored('report.csv.ts'), false)
  })
})
