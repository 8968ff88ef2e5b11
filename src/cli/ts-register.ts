/**
 * Register the TypeScript module hooks (ts-hooks.ts) once per process: `carafe run` does it
 * before importing the app, and the migration and seed loaders do it before importing a `.ts`
 * file, so migrations import the same way under `carafe run`, `carafe db` and a plain
 * `node app.js`.
 */
let registered = false

/** Register the hooks unless this process already has. */
export async function registerTypeScript(): Promise<void> {
  if (registered) return
  registered = true
  // Carafe itself is loaded first, so its own modules skip the hooks' worker.
  await import('../index.js')
  const { register } = await import('node:module')
  const { privateCacheDir } = await import('./ts-cache.js')
  register(new URL('./ts-hooks.js', import.meta.url), { data: { cacheDir: privateCacheDir() } })
  process.setSourceMapsEnabled(true)
}
