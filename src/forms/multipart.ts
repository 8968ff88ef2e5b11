import { Busboy } from '@fastify/busboy'
import { finished, type Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { HttpError } from '../core/errors.js'
import { Form } from './form.js'
import { Spool, UploadedFile, type SpoolDir } from './uploads.js'

/** Limits for multipart bodies; each is on by default. */
export interface UploadLimits {
  /** Largest file, in bytes (413 past it). @default 52428800 (50 MiB) */
  fileSize?: number
  /** Most files in one request. @default 10 */
  files?: number
  /** Most text fields in one request. @default 1000 */
  fields?: number
  /** Largest text field value, in bytes. @default 1048576 */
  fieldSize?: number
  /** Most parts (files and fields) in one request. @default 1010 */
  parts?: number
  /** Most header lines in one part. @default 100 */
  headerPairs?: number
  /** Files up to this size stay in memory; larger ones are spooled to a temporary file. @default 65536 */
  memoryThreshold?: number
}

const DEFAULTS: Required<UploadLimits> = {
  fileSize: 50 * 1024 * 1024,
  files: 10,
  fields: 1000,
  fieldSize: 1024 * 1024,
  parts: 1010,
  headerPairs: 100,
  memoryThreshold: 64 * 1024,
}

function tooLarge(message: string): HttpError {
  return new HttpError(413, message, { code: 'ERR_UPLOAD_LIMIT' })
}

/**
 * Parse a `multipart/form-data` body as it streams in: text fields into the form, files
 * through a {@link Spool} (memory, then a temporary file). Every limit is enforced while
 * streaming; past one, parsing stops with 413 and the partial files are destroyed.
 */
export async function parseMultipart(body: Readable, contentType: string, options: UploadLimits, spool: SpoolDir): Promise<Form> {
  const limits = { ...DEFAULTS, ...options }
  let busboy: InstanceType<typeof Busboy>
  try {
    busboy = new Busboy({
      headers: { 'content-type': contentType },
      limits: { fileSize: limits.fileSize, files: limits.files, fields: limits.fields, fieldSize: limits.fieldSize, parts: limits.parts, headerPairs: limits.headerPairs },
    })
  } catch (e) {
    throw new HttpError(400, `cannot read the multipart body: ${(e as Error).message}`, { code: 'ERR_BAD_MULTIPART', cause: e })
  }
  const form = new Form()
  const writes: Array<Promise<void>> = []
  const spools: Spool[] = []
  let failure: HttpError | null = null
  const fail = (e: HttpError): void => {
    failure ??= e
    busboy.destroy()
  }

  busboy.on('field', (name, value, _nameTruncated, valueTruncated) => {
    if (valueTruncated) return fail(tooLarge(`the form field "${name}" is larger than the limit of ${limits.fieldSize} bytes`))
    form.append(name, value)
  })
  busboy.on('file', (name, stream, filename, _encoding, mimeType) => {
    const sink = new Spool(limits.memoryThreshold, spool)
    spools.push(sink)
    stream.on('limit', () => fail(tooLarge(`the file "${filename}" is larger than the limit of ${limits.fileSize} bytes`)))
    const write = pipeline(stream, sink).then(() => {
      if (stream.truncated) return
      form.append(name, new UploadedFile({ name, originalFilename: filename, type: mimeType || 'application/octet-stream', size: sink.size, path: sink.path, memory: sink.memory }))
    })
    // A failed part also fails the whole parse below; this only keeps it from being unhandled.
    write.catch(() => {})
    writes.push(write)
  })
  busboy.on('filesLimit', () => fail(tooLarge(`too many files: at most ${limits.files} per request`)))
  busboy.on('fieldsLimit', () => fail(tooLarge(`too many form fields: at most ${limits.fields} per request`)))
  busboy.on('partsLimit', () => fail(tooLarge(`too many parts: at most ${limits.parts} per request`)))

  try {
    await feed(body, busboy)
    await Promise.all(writes)
  } catch (e) {
    for (const s of spools) s.destroy()
    if (failure !== null) throw failure
    if (e instanceof HttpError) throw e
    throw new HttpError(400, `the multipart body is malformed or was cut off: ${(e as Error).message}`, { code: 'ERR_BAD_MULTIPART', cause: e })
  }
  if (failure !== null) throw failure
  return form
}

/**
 * Pipe the body into the parser until the parser is done. Unlike `pipeline()`, a failure
 * never destroys the body: on the Node door that would reset the connection before the
 * 413 or 400 is written, and the client would see a broken pipe instead. The body is left
 * unpiped and paused; the door drains what is left after answering.
 */
function feed(body: Readable, parser: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    // The body failing (the client went away: ECONNRESET or a premature close) fails the parser.
    const stopBody = finished(body, { writable: false }, (e) => { if (e) parser.destroy(e) })
    finished(parser, (e) => {
      stopBody()
      body.unpipe(parser)
      if (e) reject(e)
      else resolve()
    })
    body.pipe(parser)
  })
}
