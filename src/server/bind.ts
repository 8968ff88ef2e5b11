import type { Server } from 'node:net'

/**
 * Listen on `port` at `host`; with no host, dual-stack `::`, falling back to `0.0.0.0` on a
 * machine without IPv6, as Python's http.server does. Resolves with the bound address.
 */
export function bindServer(server: Server, port: number, host: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const attempt = (h: string, fallback: string | null): void => {
      const onError = (err: NodeJS.ErrnoException): void => {
        server.off('listening', onListening)
        if (fallback !== null && (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL')) attempt(fallback, null)
        else reject(err)
      }
      const onListening = (): void => {
        server.off('error', onError)
        const a = server.address()
        resolve(typeof a === 'object' && a !== null ? a.address : h)
      }
      server.once('error', onError).once('listening', onListening)
      server.listen(port, h)
    }
    attempt(host ?? '::', host === undefined ? '0.0.0.0' : null)
  })
}
