/** A browser's cookie handling, as much as these tests need: name=value pairs, Max-Age=0 deletes. */
export class Jar {
  readonly cookies = new Map<string, string>()
  /** Every Set-Cookie line seen, newest last. */
  readonly lines: string[] = []
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      this.lines.push(line)
      const [pair, ...attrs] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name)
      else this.cookies.set(name, pair!.slice(eq + 1))
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
  copy(): Jar {
    const j = new Jar()
    for (const [k, v] of this.cookies) j.cookies.set(k, v)
    return j
  }
}
