import { BlockList, isIP } from 'node:net'

/**
 * Which proxies in front of the app are believed: `false` (none: the default), `true`
 * (the one that connects to us), a hop count, or addresses and CIDR ranges (`'10.0.0.0/8'`,
 * `'::1'`, and the names `loopback`, `linklocal`, `uniquelocal`), as a list or a
 * comma-separated string.
 */
export type TrustProxy = boolean | number | string | readonly string[]

/** Decides whether the address `hop` steps from us (0 is the socket's peer) is a trusted proxy. */
export type TrustFn = (address: string, hop: number) => boolean

const PRESETS: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
}

/**
 * Compile a {@link TrustProxy} option into a test, or `null` when nothing is trusted.
 * Throws a `TypeError` naming the bad entry, so a typo fails at start-up, not per request.
 */
export function compileTrust(option: TrustProxy | undefined): TrustFn | null {
  if (option === undefined || option === false || option === 0) return null
  if (option === true) return (_a, hop) => hop < 1
  if (typeof option === 'number') {
    if (!Number.isInteger(option) || option < 0) throw new TypeError(`trustProxy must be a whole number of hops, got ${option}`)
    return (_a, hop) => hop < option
  }
  const entries = typeof option === 'string' ? option.split(',') : option
  const list = new BlockList()
  for (const raw of entries) {
    const entry = raw.trim()
    if (entry === '') continue
    for (const item of PRESETS[entry] ?? [entry]) addEntry(list, item, entry)
  }
  return (address) => {
    const family = isIP(address)
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4')
  }
}

function addEntry(list: BlockList, item: string, original: string): void {
  const slash = item.indexOf('/')
  const addr = slash < 0 ? item : item.slice(0, slash)
  const family = isIP(addr)
  if (family === 0) throw new TypeError(`trustProxy: ${JSON.stringify(original)} is not an IP address, a CIDR range, or one of ${Object.keys(PRESETS).join(', ')}`)
  const type = family === 6 ? 'ipv6' : 'ipv4'
  if (slash < 0) return list.addAddress(addr, type)
  const bits = Number(item.slice(slash + 1))
  if (!Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) throw new TypeError(`trustProxy: bad prefix length in ${JSON.stringify(original)}`)
  list.addSubnet(addr, bits, type)
}

/** What the proxies in front say about one request, rightmost (nearest) hop last. */
export interface ForwardedHops {
  /** Client addresses, as the proxies appended them (leftmost: the farthest). */
  readonly for: string[]
  /** The scheme the nearest proxy reported, lower-case, if any. */
  readonly proto: string | undefined
  /** The host the nearest proxy reported, if any. */
  readonly host: string | undefined
}

/** Read `X-Forwarded-For/-Proto/-Host` (the default) or RFC 7239 `Forwarded`. */
export function readForwarded(header: (name: string) => string | undefined, kind: 'x-forwarded' | 'forwarded'): ForwardedHops {
  if (kind === 'forwarded') {
    const out: { for: string[]; proto: string | undefined; host: string | undefined } = { for: [], proto: undefined, host: undefined }
    const value = header('forwarded')
    if (value === undefined) return out
    for (const element of value.split(',')) {
      for (const pair of element.split(';')) {
        const eq = pair.indexOf('=')
        if (eq < 0) continue
        const key = pair.slice(0, eq).trim().toLowerCase()
        let v = pair.slice(eq + 1).trim()
        if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1)
        if (key === 'for') out.for.push(stripPort(v))
        else if (key === 'proto') out.proto = v.toLowerCase()
        else if (key === 'host') out.host = v
      }
    }
    return out
  }
  const ff = header('x-forwarded-for')
  return {
    for: ff === undefined ? [] : ff.split(',').map((s) => stripPort(s.trim())).filter((s) => s !== ''),
    proto: last(header('x-forwarded-proto'))?.toLowerCase(),
    host: last(header('x-forwarded-host')),
  }
}

/**
 * The client's address: walk from the socket's peer towards the client, through trusted
 * proxies only, and stop at the first address that is not one (the rightmost untrusted
 * one). A client can prepend anything to `X-Forwarded-For`, but never past a proxy we trust.
 */
export function clientAddress(peer: string, hops: readonly string[], trust: TrustFn): string {
  let address = peer
  if (!trust(address, 0)) return address
  for (let i = hops.length - 1, hop = 1; i >= 0; i--, hop++) {
    address = hops[i]!
    if (!trust(address, hop)) return address
  }
  return address
}

function last(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  const comma = value.lastIndexOf(',')
  const v = (comma < 0 ? value : value.slice(comma + 1)).trim()
  return v === '' ? undefined : v
}

/** `1.2.3.4:80` → `1.2.3.4`, `[::1]:80` → `::1`; other text unchanged. */
function stripPort(v: string): string {
  if (v.startsWith('[')) {
    const end = v.indexOf(']')
    return end < 0 ? v : v.slice(1, end)
  }
  const colon = v.indexOf(':')
  return colon >= 0 && colon === v.lastIndexOf(':') ? v.slice(0, colon) : v
}

/**
 * RFC 9110 §7.2 / RFC 3986 §3.2.2: a host (reg-name, IPv4 or bracketed IPv6) and an
 * optional port. Anything else (`/`, `#`, `@`, spaces, controls) is refused, so a URL built
 * from it can never point its path, fragment or credentials somewhere else.
 */
export const HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d{1,5})?$/

/** The host without its port, lower-case (`[::1]:80` → `[::1]`). */
export function hostnameOf(host: string): string {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':')
  return (end <= 0 ? host : host.slice(0, end)).toLowerCase()
}
