// Uploaded images (avatars, pictures in articles): accepted by what the bytes are, never by
// the file's name or the type the browser claims. PNG, JPEG, WebP and GIF only: no SVG (an
// SVG is a document that can carry scripts).
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { UploadedFile } from 'carafe'

export type ImageKind = 'png' | 'jpg' | 'webp' | 'gif'

/** What image format these bytes start with, or `null` when they are none of the four. */
export function sniffImage(b: Uint8Array): ImageKind | null {
  const at = (i: number, ...bytes: number[]): boolean => bytes.every((x, k) => b[i + k] === x)
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png'
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpg'
  if (at(0, 0x47, 0x49, 0x46, 0x38) && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61) return 'gif'
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp'
  return null
}

/** Most bytes of an uploaded image. */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024

/**
 * Keep an uploaded image under `dir` with a name made of its content's hash (the same picture
 * twice is one file, and no name a user typed reaches the disk); the URL it is served at,
 * or the reason it was refused.
 */
export async function saveImage(file: UploadedFile, dir: string, urlPrefix = '/uploads'): Promise<{ url: string } | { error: string }> {
  if (file.size === 0) return { error: 'is empty' }
  if (file.size > MAX_IMAGE_BYTES) return { error: `is larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MiB` }
  const bytes = await file.bytes()
  const kind = sniffImage(bytes)
  if (kind === null) return { error: 'is not a PNG, JPEG, WebP or GIF image' }
  const name = `${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}.${kind}`
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, name), bytes)
  return { url: `${urlPrefix}/${name}` }
}
