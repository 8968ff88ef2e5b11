import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, watch, type FSWatcher } from 'node:fs'
import path from 'node:path'
import { DEFAULT_IGNORES, ignoreMatcher } from './ignore.js'

/**
 * Bottle's `reloader=True`: run the app in a child process and restart it when a file in
 * the app's folder (sources, templates) changes, except for files matching
 * {@link DEFAULT_IGNORES} or the user's `ignore` globs. The child closes gracefully on
 * SIGTERM, so the port is free again before the new child binds it.
 */
export function runWithReloader(file: string, childArgv: string[], ignore: readonly string[] = []): void {
  const dir = path.dirname(path.resolve(file))
  const ignored = ignoreMatcher([...DEFAULT_IGNORES, ...ignore])
  let child: ChildProcess | null = null
  let restarting = false
  let timer: NodeJS.Timeout | undefined
  let firstChange: string | undefined
  let stopping = false

  const start = (): void => {
    // The IPC channel is only there so the child notices when this process dies.
    child = spawn(process.execPath, [...process.execArgv, ...childArgv], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
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

  const changed = (relative: string): void => {
    // One restart per burst of events (an editor's save is several); name the first file.
    firstChange ??= relative
    clearTimeout(timer)
    timer = setTimeout(() => {
      const name = firstChange!
      firstChange = undefined
      restart(path.join(dir, name))
    }, 80)
  }

  let tree: TreeWatcher
  try {
    tree = watchTree(dir, ignored, changed)
  } catch (e) {
    console.error(`carafe: cannot watch ${dir} for changes: ${(e as Error).message}`)
    process.exit(1)
  }
  console.log(` * Restarting on changes in ${dir}`)
  const stop = (): void => {
    stopping = true
    tree.close()
    if (child === null) process.exit(0)
    child.kill('SIGTERM')
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  start()
}

interface TreeWatcher { close(): void }

/**
 * Watch every folder under `root` that is not ignored, one non-recursive watcher per
 * folder. Watching folders rather than files is what keeps seeing a file that is saved by
 * replacing it (`sed -i`, most editors, `git checkout` write a new file and rename it over
 * the old one): a watch on the old file's inode goes quiet after the first replacement,
 * while its folder reports every later one. Folders that appear later are added as they do.
 */
function watchTree(root: string, ignored: (relative: string) => boolean, onChange: (relative: string) => void): TreeWatcher {
  const watchers = new Map<string, FSWatcher>()
  const add = (relDir: string, required: boolean): void => {
    if (watchers.has(relDir)) return
    const abs = path.join(root, relDir)
    let w: FSWatcher
    try {
      w = watch(abs, (_event, name) => {
        if (name === null) return
        const rel = relDir === '' ? name : `${relDir}/${name}`
        if (ignored(rel)) return
        onChange(rel)
        // A folder made, removed or renamed here: (re)watch what is there now.
        const old = watchers.get(rel)
        if (old !== undefined) {
          old.close()
          watchers.delete(rel)
        }
        addTree(rel, false)
      })
    } catch (e) {
      if (required) throw e
      return // not a folder, or gone already
    }
    w.on('error', () => {
      w.close()
      watchers.delete(relDir)
    })
    watchers.set(relDir, w)
  }
  const addTree = (relDir: string, required: boolean): void => {
    let entries
    try {
      entries = readdirSync(path.join(root, relDir), { withFileTypes: true })
    } catch (e) {
      if (required) throw e
      return // a file, or gone
    }
    add(relDir, required)
    for (const entry of entries) {
      const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`
      if (entry.isDirectory() && !ignored(rel)) addTree(rel, false)
    }
  }
  addTree('', true)
  return {
    close() {
      for (const w of watchers.values()) w.close()
      watchers.clear()
    },
  }
}
