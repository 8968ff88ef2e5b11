// Conduit's tables: users and who follows whom, articles with their tags, favorites and
// comments. Portable across SQLite, PostgreSQL and MariaDB: times are ISO 8601 strings
// (they sort as text), ids are auto-numbered integers.
import type { ColumnDefinitionBuilder, Kysely } from 'kysely'
import { dialectOf } from 'carafe/db'

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = dialectOf(db) === 'postgres'
  const id = pg ? 'serial' : 'integer'
  const key = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder => pg ? c.primaryKey() : c.primaryKey().autoIncrement()
  const cascade = (table: string) => (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder => c.notNull().references(`${table}.id`).onDelete('cascade')

  await db.schema.createTable('users')
    .addColumn('id', id, key)
    .addColumn('email', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('username', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
    .addColumn('bio', 'text')
    .addColumn('image', 'varchar(500)')
    .addColumn('roles', 'varchar(200)', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .execute()

  await db.schema.createTable('follows')
    .addColumn('follower_id', 'integer', cascade('users'))
    .addColumn('followed_id', 'integer', cascade('users'))
    .addPrimaryKeyConstraint('follows_pk', ['follower_id', 'followed_id'])
    .execute()
  await db.schema.createIndex('follows_followed').on('follows').columns(['followed_id']).execute()

  await db.schema.createTable('articles')
    .addColumn('id', id, key)
    .addColumn('slug', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('title', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'varchar(1000)', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('author_id', 'integer', cascade('users'))
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('articles_created').on('articles').columns(['created_at', 'id']).execute()
  await db.schema.createIndex('articles_author').on('articles').columns(['author_id', 'created_at']).execute()

  // A tag's position keeps the order the author gave.
  await db.schema.createTable('article_tags')
    .addColumn('article_id', 'integer', cascade('articles'))
    .addColumn('tag', 'varchar(100)', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('article_tags_pk', ['article_id', 'tag'])
    .execute()
  await db.schema.createIndex('article_tags_tag').on('article_tags').columns(['tag', 'article_id']).execute()

  await db.schema.createTable('favorites')
    .addColumn('user_id', 'integer', cascade('users'))
    .addColumn('article_id', 'integer', cascade('articles'))
    .addPrimaryKeyConstraint('favorites_pk', ['user_id', 'article_id'])
    .execute()
  await db.schema.createIndex('favorites_article').on('favorites').columns(['article_id']).execute()

  await db.schema.createTable('comments')
    .addColumn('id', id, key)
    .addColumn('article_id', 'integer', cascade('articles'))
    .addColumn('author_id', 'integer', cascade('users'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(40)', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('comments_article').on('comments').columns(['article_id', 'id']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['comments', 'favorites', 'article_tags', 'articles', 'follows', 'users']) await db.schema.dropTable(t).execute()
}
