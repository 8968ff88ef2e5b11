// Conduit's JSON API, as RealWorld's openapi.yml says (being written).
import { Carafe } from 'carafe'
import type { RateLimiter } from 'carafe/auth'
import type { Database } from 'carafe/db'
import type { DB } from './lib/data.js'

export interface ApiDeps { app: Carafe; db: Database<DB>; loginLimit: RateLimiter; uploads: string }

export function api(_deps: ApiDeps): Carafe {
  const api = new Carafe()
  return api
}
