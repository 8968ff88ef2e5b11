// Conduit's pages (being written).
import type { Carafe } from 'carafe'
import type { RateLimiter } from 'carafe/auth'
import type { Database } from 'carafe/db'
import type { DB } from './lib/data.js'

export interface PageDeps { db: Database<DB>; loginLimit: RateLimiter; uploads: string }

export function pages(_app: Carafe, _deps: PageDeps): void {}
