// The smallest Carafe app: `npx carafe run examples/hello.ts` (also timed by bench/startup).
import { Carafe } from 'carafe'

const app = new Carafe()
app.get('/', (c) => c.text('Hello, World!'))
app.run({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8000), log: false })
