import { readFileSync, realpathSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Context } from '../core/context.js'
import { escapeHtml } from '../util/html-escape.js'

interface Frame {
  fn: string
  file: string
  line: number
  column: number
}

const CONTEXT_LINES = 5

/** Request headers whose values are credentials: the page shows that they were sent, never what they hold. */
const MASKED_HEADERS = new Set(['cookie', 'authorization', 'proxy-authorization'])

/** Carafe's own files: the compiled tree this module sits in, and the TypeScript sources beside it. */
const HERE = path.dirname(fileURLToPath(import.meta.url))
const CARAFE_DIRS = [path.resolve(HERE, '..'), path.resolve(HERE, '../../src')]

/**
 * The debug error page: the error, each stack frame with the source lines around it
 * (TypeScript sources when source maps are on, as `run({ debug: true })` turns them), and
 * the request, with credentials (`Cookie`, `Authorization`) masked. Only ever rendered in
 * debug mode, for the clients `mayShowDebugPage` lets through. Source lines come only from
 * frames of the real stack and only from files under the app's root or Carafe's own sources.
 */
export function renderDebugPage(error: unknown, c: Context<any>): string {
  const err = error instanceof Error ? error : new Error(String(error))
  const frames = parseStack(err)
  const roots = readableRoots(c.root)
  const sources = frames.map((f) => renderFrame(f, roots)).join('\n')
  const headers = c.req.headers().map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(MASKED_HEADERS.has(k.toLowerCase()) ? mask(v) : v)}</td></tr>`).join('')
  const params = Object.entries(c.params as Record<string, unknown>).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`).join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(err.name)}: ${escapeHtml(err.message)} — Carafe debug</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#8b1d1d;color:#fff;padding:1rem 1.5rem}h1{margin:0;font-size:1.3rem}
header p{margin:.3rem 0 0;opacity:.85}main{padding:1rem 1.5rem}
.frame{background:#fff;border:1px solid #ddd;border-radius:6px;margin:.7rem 0;overflow:hidden}
.frame h3{margin:0;padding:.4rem .7rem;font:600 13px ui-monospace,monospace;background:#f0f0f0}
.frame.lib h3{color:#777;font-weight:400}pre{margin:0;padding:.3rem 0;font:13px/1.4 ui-monospace,monospace;overflow-x:auto}
pre span{display:block;padding:0 .7rem;white-space:pre}pre span.hit{background:#ffe3e3}
table{border-collapse:collapse;font:13px ui-monospace,monospace}th,td{text-align:left;padding:.15rem .6rem;border-bottom:1px solid #eee;vertical-align:top}
.note{color:#666;font-size:13px}
</style></head><body>
<header><h1>${escapeHtml(err.name)}: ${escapeHtml(err.message)}</h1>
<p>${escapeHtml(c.req.method)} ${escapeHtml(c.req.url)}</p></header>
<main>
<h2>Traceback <span class="note">(most recent call first)</span></h2>
${sources || `<pre>${escapeHtml(err.stack ?? String(error))}</pre>`}
<h2>Request</h2>
<table><tr><th>method</th><td>${escapeHtml(c.req.method)}</td></tr><tr><th>url</th><td>${escapeHtml(c.req.url)}</td></tr>${params}</table>
<h3>Headers</h3><table>${headers}</table>
<p class="note">You see this page because the app runs in debug mode and you connect from this machine. Never turn debug mode on in production.</p>
</main></body></html>
`
}

function mask(value: string): string {
  return `(masked: ${value.length} characters)`
}

/**
 * The frames of the real stack, never lines of the message. `stack` starts with
 * `Name: message`, and a message may hold anything, including lines shaped like frames
 * (`at x (/etc/passwd:3:1)`) from user input: skip the message as a whole, then read frame
 * lines until the first line that is not one. When the stack does not start with the
 * message (it was changed after the error was made), no frame is trusted.
 */
function parseStack(err: Error): Frame[] {
  const stack = typeof err.stack === 'string' ? err.stack : ''
  const message = String(err.message)
  const at = message === '' ? 0 : stack.indexOf(message)
  if (at < 0 || stack.slice(0, at).includes('\n')) return []
  const newline = stack.indexOf('\n', at + message.length)
  if (newline < 0) return []
  const frames: Frame[] = []
  for (const line of stack.slice(newline + 1).split('\n')) {
    const m = /^\s+at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/.exec(line)
    if (m === null) break
    frames.push({ fn: m[1] ?? '<anonymous>', file: m[2]!, line: Number(m[3]), column: Number(m[4]) })
  }
  return frames
}

/** Folders whose files the page may read: the app's root and Carafe's own sources (real paths, so a symlink cannot lead out). */
function readableRoots(appRoot: string): string[] {
  const roots: string[] = []
  for (const dir of [appRoot, ...CARAFE_DIRS]) {
    try { roots.push(realpathSync(dir)) } catch { /* a folder that does not exist holds nothing to read */ }
  }
  return roots
}

/** The real path of `file` when it lies under one of `roots`, else `null`. */
function readablePath(file: string, roots: readonly string[]): string | null {
  if (!path.isAbsolute(file)) return null
  let real: string
  try { real = realpathSync(file) } catch { return null }
  return roots.some((r) => real.startsWith(r.endsWith(path.sep) ? r : r + path.sep)) ? real : null
}

function renderFrame(f: Frame, roots: readonly string[]): string {
  let file = f.file
  if (file.startsWith('file://')) {
    try { file = fileURLToPath(file) } catch { /* shown as is, not read */ }
  }
  const lib = file.startsWith('node:') || file.includes('/node_modules/') || file.includes('/carafe/dist/')
  let code = ''
  const readable = readablePath(file, roots)
  if (readable !== null) {
    const lines = readLines(readable)
    if (lines !== null) {
      const from = Math.max(1, f.line - CONTEXT_LINES)
      const to = Math.min(lines.length, f.line + CONTEXT_LINES)
      const rows: string[] = []
      for (let n = from; n <= to; n++) {
        rows.push(`<span${n === f.line ? ' class="hit"' : ''}>${String(n).padStart(4)}  ${escapeHtml(lines[n - 1] ?? '')}</span>`)
      }
      code = `<pre>${rows.join('')}</pre>`
    }
  }
  return `<div class="frame${lib ? ' lib' : ''}"><h3>${escapeHtml(f.fn)} — ${escapeHtml(file)}:${f.line}:${f.column}</h3>${code}</div>`
}

const cache = new Map<string, string[] | null>()

function readLines(file: string): string[] | null {
  let lines = cache.get(file)
  if (lines === undefined) {
    try {
      lines = readFileSync(file, 'utf8').split('\n')
    } catch {
      lines = null
    }
    if (cache.size > 200) cache.clear()
    cache.set(file, lines)
  }
  return lines
}
