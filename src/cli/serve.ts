/** Placeholder replaced by the static-files work; `carafe serve` lands with it. */
export const SERVE_HELP = 'Usage: carafe serve [dir] [port]\n'

/** `carafe serve`: serve a folder. */
export async function serveCommand(_argv: string[]): Promise<void> {
  throw new Error('carafe serve is not available in this build yet')
}
