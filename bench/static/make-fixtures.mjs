#!/usr/bin/env node
// Makes bench/static/www/, the folder the static-file servers serve:
//   file-1k.txt         1024 bytes of text
//   file-1m.bin         1 MiB of pseudo-random bytes (fixed seed, so the same every time)
//   list200/            200 small files, entry-001.txt .. entry-200.txt, and no index.html
// Idempotent: a file is written only when it is missing or differs, and anything else
// in www/ is removed, so the folder always ends up exactly like this.
// run.mjs calls makeFixtures() at the start of every run that has a static scenario;
// `node bench/static/make-fixtures.mjs` does the same by hand.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const WWW_DIR = join(dirname(fileURLToPath(import.meta.url)), 'www')
export const LIST_COUNT = 200
export const entryName = (i) => `entry-${String(i).padStart(3, '0')}.txt`

/** 1024 bytes of ASCII text: numbered lines, cut to length, ending with a newline. */
function text1k() {
  let text = ''
  for (let line = 1; text.length < 1024; line++) {
    text += `line ${String(line).padStart(2, '0')}: the quick brown fox jumps over the lazy dog\n`
  }
  return Buffer.from(`${text.slice(0, 1023)}\n`, 'ascii')
}

/** 1 MiB from xorshift32 with a fixed seed: incompressible, and the same on every run. */
function bytes1m() {
  const buf = Buffer.alloc(1024 * 1024)
  let x = 0x9e3779b9
  for (let i = 0; i < buf.length; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    buf.writeUInt32LE(x >>> 0, i)
  }
  return buf
}

let cache = null
/** Every fixture file: relative path -> exact bytes. */
export function fixtureFiles() {
  if (cache) return cache
  cache = new Map([
    ['file-1k.txt', text1k()],
    ['file-1m.bin', bytes1m()],
  ])
  for (let i = 1; i <= LIST_COUNT; i++) {
    cache.set(`list200/${entryName(i)}`, Buffer.from(`entry ${i} of ${LIST_COUNT}\n`, 'ascii'))
  }
  return cache
}

function sameContent(file, bytes) {
  try {
    const st = statSync(file)
    return st.isFile() && st.size === bytes.length && readFileSync(file).equals(bytes)
  } catch {
    return false
  }
}

/** Brings www/ to exactly the fixture set; returns how many files it (re)wrote. */
export function makeFixtures() {
  const files = fixtureFiles()
  let written = 0
  mkdirSync(join(WWW_DIR, 'list200'), { recursive: true })
  for (const [rel, bytes] of files) {
    const file = join(WWW_DIR, rel)
    if (sameContent(file, bytes)) continue
    rmSync(file, { recursive: true, force: true }) // in case a folder is in the way
    writeFileSync(file, bytes)
    written++
  }
  // Remove strays (an index.html in list200/ would turn the listing into a file).
  for (const entry of readdirSync(WWW_DIR, { recursive: true })) {
    const rel = String(entry).split('\\').join('/')
    if (rel === 'list200' || files.has(rel)) continue
    rmSync(join(WWW_DIR, rel), { recursive: true, force: true })
  }
  return written
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const written = makeFixtures()
  console.log(`${WWW_DIR}: ${fixtureFiles().size} files, ${written} (re)written`)
}
