// Measure how much an upload of N MiB raises a Carafe server's memory.
//
//   node bench/upload/measure.mjs [MiB]      (default 200)
//
// Starts bench/upload/server.mjs in its own process, streams one multipart file of N MiB
// to it in 64 KiB chunks after a small warm-up upload, and reports the server's RSS before
// and its peak RSS (VmHWM) during the upload, read from /proc/PID/status.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))

function status(pid, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m[1]) / 1024
}

/** Upload `mib` MiB and return { before, peak, growth } in MiB, and the server's answer. */
export async function measureUpload(mib) {
  const child = spawn(process.execPath, [path.join(here, 'server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const port = await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => { const m = /listening (\d+)/.exec(String(d)); if (m) resolve(Number(m[1])) })
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
    })
    const boundary = 'carafe-measure-boundary'
    // Warm up with a small upload (loads the multipart parser, compiles the hot code), then
    // reset the peak-RSS counter (clear_refs 5) so the peak below is the big upload's own.
    await upload(port, boundary, 1)
    await new Promise((r) => setTimeout(r, 200))
    writeFileSync(`/proc/${child.pid}/clear_refs`, '5')
    const before = status(child.pid, 'VmRSS')
    const answer = await upload(port, boundary, mib)
    const peak = status(child.pid, 'VmHWM')
    return { before, peak, growth: peak - before, answer }
  } finally {
    // SIGTERM: the server drains and its request cleanups (temporary upload files) finish.
    child.kill('SIGTERM')
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)))
  }
}

function upload(port, boundary, mib) {
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`)
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    const chunks = (mib * 1024 * 1024) / chunk.length
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + chunks * chunk.length + tail.length } }, (res) => {
        let body = ''
        res.on('data', (d) => { body += d })
        res.on('end', () => resolve({ status: res.statusCode, body }))
      })
      req.on('error', reject)
      req.write(head)
      let sent = 0
      const pump = () => {
        while (sent < chunks) {
          sent++
          if (!req.write(chunk)) return req.once('drain', pump)
        }
        req.end(tail)
      }
      pump()
    })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mib = Number(process.argv[2] ?? 200)
  const r = await measureUpload(mib)
  console.log(`upload of ${mib} MiB: server RSS before ${r.before.toFixed(1)} MiB, peak during/after ${r.peak.toFixed(1)} MiB, growth ${r.growth.toFixed(1)} MiB; answer ${r.answer.status} ${r.answer.body}`)
}
