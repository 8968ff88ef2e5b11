// Carafe with its access log on (Python http.server's format, to stdout): what logging costs.
process.env.CARAFE_BENCH_LOG = 'default'
await import('./carafe.mjs')
