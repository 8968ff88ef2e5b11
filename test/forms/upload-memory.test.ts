import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT } from '../helpers/spawn.js'

interface Measure {
  measureUpload(mib: number): Promise<{ before: number; peak: number; growth: number; answer: { status: number; body: string } }>
}

describe('multipart uploads', () => {
  it('stream to disk: a 64 MiB upload raises the server peak RSS by less than 16 MiB', async () => {
    const { measureUpload } = await import(pathToFileURL(path.join(ROOT, 'bench/upload/measure.mjs')).href) as Measure
    const r = await measureUpload(64)
    assert.equal(r.answer.status, 200)
    assert.deepEqual(JSON.parse(r.answer.body), { size: 64 * 1024 * 1024, spooled: true })
    assert.ok(r.growth < 16, `peak RSS grew by ${r.growth.toFixed(1)} MiB`)
  })
})
