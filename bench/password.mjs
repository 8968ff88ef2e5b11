// How long hashPassword / verifyPassword take per call (argon2id, OWASP's m=19 MiB, t=2,
// p=1), one at a time and with the default concurrency limit under a burst.
//   node bench/password.mjs [dist] [calls]
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const [distArg = 'dist', countArg = '30'] = process.argv.slice(2)
const dist = path.resolve(distArg)
const { hashPassword, verifyPassword, passwordLoad } = await import(pathToFileURL(path.join(dist, 'auth/index.js')).href)
const n = Number(countArg)
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

await hashPassword('warm-up')
const hashTimes = []
let hash = ''
for (let i = 0; i < n; i++) {
  const t = performance.now()
  hash = await hashPassword(`password ${i}`)
  hashTimes.push(performance.now() - t)
}
const verifyTimes = []
const unknownTimes = []
for (let i = 0; i < n; i++) {
  let t = performance.now()
  await verifyPassword(hash, 'wrong password')
  verifyTimes.push(performance.now() - t)
  t = performance.now()
  await verifyPassword(undefined, 'wrong password')
  unknownTimes.push(performance.now() - t)
}
const burst = 16
const t0 = performance.now()
await Promise.all(Array.from({ length: burst }, (_, i) => hashPassword(`burst ${i}`)))
const burstMs = performance.now() - t0
console.log(`hashPassword:                ${median(hashTimes).toFixed(1)} ms per call (median of ${n}, one at a time)`)
console.log(`verifyPassword (wrong):      ${median(verifyTimes).toFixed(1)} ms per call`)
console.log(`verifyPassword (no user):    ${median(unknownTimes).toFixed(1)} ms per call (the dummy hash)`)
console.log(`${burst} hashes at once:         ${burstMs.toFixed(0)} ms in all, ${(burstMs / burst).toFixed(1)} ms each (concurrency ${passwordLoad().concurrency})`)
