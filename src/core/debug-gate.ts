/**
 * Who may see the debug page. The page shows source code and request headers, so it is
 * for the developer at this machine only. Three threats, three rules:
 *
 * - A remote client: the socket's peer address must be loopback. An unknown address (a
 *   Fetch host that passed none) is not loopback.
 * - A reverse proxy on this machine makes every client's socket look like loopback: any
 *   forwarding header (`Forwarded`, `X-Forwarded-*`, `X-Real-IP`) refuses the page.
 * - DNS rebinding (Werkzeug CVE-2024-34069): a page on `evil.example` whose name resolves
 *   to 127.0.0.1 reaches the server from the victim's browser with a loopback address, but
 *   with `Host: evil.example`; the `Host` must name loopback (`localhost`, `127.x.x.x`,
 *   `[::1]`, with an optional port).
 *
 * `CARAFE_DEBUG_REMOTE=1` lifts all three (e.g. a container reached through a port mapping).
 * `host` is the request's own host, `c.req.host`: the one the door checked and routes with.
 */
export function mayShowDebugPage(remoteAddress: string | undefined, header: (name: string) => string | undefined, host: string): boolean {
  if (process.env.CARAFE_DEBUG_REMOTE === '1') return true
  if (remoteAddress === undefined || !isLoopback(remoteAddress)) return false
  for (const name of FORWARDING_HEADERS) if (header(name) !== undefined) return false
  return isLoopbackHost(host)
}

/** Headers a proxy adds to say who the real client is. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip']

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}

/** True for a `Host` value that names this machine: `localhost`, `127.x.x.x` or `[::1]`, with an optional port. */
export function isLoopbackHost(host: string): boolean {
  return /^(?:localhost|127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}|\[::1\])(?::\d{1,5})?$/i.test(host)
}

