import { spawn, type ChildProcess } from 'node:child_process'
import { watch, type FSWatcher } from 'node:fs'
import path from 'node:path'

const IGNORED = /(^|[/\\])(node_modules|\.git|dist|build|coverage)([/\\]|$)|\.(log|sqlite|db|tmp|swp)$|~$/

/**
 * Bottle's `reloader=True`: run the app in a child process and restart it when a file in
 * the app's folder (sources, templates) changes. The child closes gracefully on SIGTERM, so
 * the port is free again before the new child binds it.
 */
export function runWithReloader(file: string, childArgv: string[]): void {
  const dir = path.dirname(path.resolve(file))
  let child: ChildProcess | null = null
  let restarting = false
  let timer: NodeJS.Timeout | undefined
  let stopping = false

  const start = (): void => {
    child = spawn(process.execPath, [...process.execArgv, ...childArgv], {
      stdio: 'inherit',
      env: { ...process.env, CARAFE_RELOAD: '1' },
    })
    child.on('exit', (code, signal) => {
      child = null
      if (stopping) process.exit(0)
      if (restarting) {
        restarting = false
        start()
      } else if (code !== 0 && signal === null) {
        console.error(` * The app exited with code ${code}; waiting for a change to restart it.`)
      }
    })
  }

  const restart = (changed: string): void => {
    console.log(` * Detected change in '${changed}', reloading`)
    if (child === null) return start()
    restarting = true
    child.kill('SIGTERM')
  }

  let watcher: FSWatcher
  try {
    watcher = watch(dir, { recursive: true }, (_event, name) => {
      if (name === null || IGNORED.test(name)) return
      clearTimeout(timer)
      timer = setTimeout(() => restart(path.join(dir, name)), 80)
    })
  } catch (e) {
    console.error(`carafe: cannot watch ${dir} for changes: ${(e as Error).message}`)
    process.exit(1)
  }
  console.log(` * Restarting on changes in ${dir}`)
  const stop = (): void => {
    stopping = true
    watcher.close()
    if (child === null) process.exit(0)
    child.kill('SIGTERM')
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  start()
}
