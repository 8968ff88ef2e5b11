// An upload endpoint for the upload-memory measurement: streams the multipart body to a
// spooled temporary file and answers with the size it saw.
import { Carafe } from '../../dist/index.js'

const app = new Carafe({ uploads: { fileSize: 4 * 1024 * 1024 * 1024 } })
app.post('/upload', async (c) => {
  const file = (await c.req.form()).file('file')
  return { size: file?.size ?? 0, spooled: file?.path !== null }
})
app.listen({ host: '127.0.0.1', port: 0 }).then((s) => {
  console.log(`listening ${s.port}`)
  process.once('SIGTERM', () => s.close().then(() => process.exit(0)))
})
