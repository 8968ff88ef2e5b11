/** Run `fn` with console.error captured; resolves to what it returned and what was logged. */
export async function captureErrors<T>(fn: () => Promise<T>): Promise<{ value: T; logged: string }> {
  const original = console.error
  let logged = ''
  console.error = (...a: unknown[]) => { logged += a.map((x) => (x instanceof Error ? `${x.name}: ${x.message}` : String(x))).join(' ') + '\n' }
  try {
    return { value: await fn(), logged }
  } finally {
    console.error = original
  }
}
