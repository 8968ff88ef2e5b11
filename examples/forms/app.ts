// A form with a file upload and a JSON API, both validated: `npx carafe run examples/forms/app.ts`.
import { mkdir, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { Carafe } from 'carafe'
import { z } from 'zod'

// static: Flask's static folder, at /static; templates link to it with {{ static('style.css') }}.
const app = new Carafe({ uploads: { fileSize: 5 * 1024 * 1024, files: 1 }, static: { dir: 'static' } })
const uploads = process.env.UPLOAD_DIR ?? path.join(app.root, 'uploaded')

// One schema for both doors: the HTML form and the JSON API.
const Note = z.object({
  title: z.string().trim().min(1, 'Give the note a title').max(100),
  body: z.string().max(2000, 'Keep it under 2000 characters').default(''),
  rating: z.coerce.number().int().min(1, 'From 1').max(5, 'to 5'),
})

const notes: Array<z.infer<typeof Note> & { id: number; file: string | null }> = []

app.get('/', function home(c) {
  return c.render('form.html', { notes, values: {}, errors: {} })
})

app.post('/', async function submit(c) {
  const form = await c.req.form()
  const result = await c.validate('form', Note.extend({ attachment: z.unknown().optional() }))
  if (!result.success) {
    // Re-render with what was typed and why it was refused (autoescaped by the template).
    return c.render('form.html', { notes, values: form.toObject(), errors: result.errors }, 400)
  }
  const file = form.file('attachment')
  let saved: string | null = null
  if (file !== undefined && file.size > 0) saved = path.basename(await file.saveTo(uploads))
  notes.push({ ...result.data, id: notes.length + 1, file: saved })
  return c.redirect(c.url('home'), 303)
})

app.get('/api/notes', function listNotes() {
  return notes
})

app.post('/api/notes', async function createNote(c) {
  const note = await c.valid('json', Note)
  const created = { ...note, id: notes.length + 1, file: null }
  notes.push(created)
  return c.json(created, 201)
})

app.get('/api/uploads', async function listUploads() {
  await mkdir(uploads, { recursive: true })
  const names = await readdir(uploads)
  return Promise.all(names.map(async (name) => ({ name, size: (await stat(path.join(uploads, name))).size })))
})

app.run({ port: Number(process.env.PORT ?? 8000) })
