import type { DatabaseSync } from 'node:sqlite';

/**
 * The tables of one day file (the store keeps one SQLite file per UTC day,
 * as Elasticsearch keeps daily indices, so retention deletes files).
 *
 * - `logs` holds one narrow row per line under `line`, a key that sorts by
 *   time: `@timestamp` ms × 2^20 + a sequence number within the millisecond.
 *   Because the full-text index shares that key as its rowid, it hands out
 *   matches already in time order, and a time range is a rowid range it can
 *   seek to: a search reads about as many index entries as it returns.
 * - `docs` keeps the documents apart, so the rows the searches touch stay
 *   small and cached.
 * - `streams` names each (namespace, pod, container, file path, file id)
 *   once; context reads the streams of one file identity (or, for lines
 *   without `log.file.id`, of one path) through `logs_stream` in (time,
 *   offset, id) order.
 * - `log_fts` indexes the words of `message` (`body`) and one hashed word per
 *   keyword field value (`keys`). The words are made in JavaScript (see
 *   tokens.ts) and joined by spaces, so its tokenizer is set to
 *   split on spaces only. Lines are never deleted from a day, so the index
 *   keeps no content and no sizes.
 */
export const SCHEMA_VERSION = 2;

export const SEQUENCE_BITS = 20n;

/** The streams table as version 2 has it, under a name of the caller's (a migration builds it aside first). */
const streamsTable = (name: string) => `
CREATE TABLE IF NOT EXISTS ${name} (
  id INTEGER PRIMARY KEY,
  namespace TEXT NOT NULL,
  pod TEXT NOT NULL,
  container TEXT NOT NULL,
  path TEXT NOT NULL,
  file_id TEXT NOT NULL DEFAULT '',
  UNIQUE (namespace, pod, container, path, file_id)
) STRICT;
`;

const TABLES = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
${streamsTable('streams')}CREATE TABLE IF NOT EXISTS logs (
  line INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  time INTEGER NOT NULL,
  byte_offset INTEGER NOT NULL,
  stream INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS logs_stream ON logs (stream, time, byte_offset, id);
CREATE TABLE IF NOT EXISTS docs (line INTEGER PRIMARY KEY, doc TEXT NOT NULL) STRICT;
CREATE VIRTUAL TABLE IF NOT EXISTS log_fts USING fts5(
  body, keys,
  content = '', columnsize = 0, detail = full,
  tokenize = "unicode61 remove_diacritics 0 categories 'L* M* N* P* S* C*'"
);
`;

/** Indexes on columns a migration adds: created once the tables have them. */
const INDEXES = `
CREATE INDEX IF NOT EXISTS streams_file ON streams (namespace, file_id);
`;

/**
 * Version 1 named a stream without the file's identity (`log.file.id`), and
 * its unique key does not allow two generations of one path: `streams` is
 * rebuilt with the same ids, its lines keep an empty file id. Streams are a
 * few rows per day, so this is quick.
 */
const FROM_VERSION_1 = `
${streamsTable('streams_v2')}INSERT INTO streams_v2 (id, namespace, pod, container, path) SELECT id, namespace, pod, container, path FROM streams;
DROP TABLE streams;
ALTER TABLE streams_v2 RENAME TO streams;
`;

/**
 * Pragmas of every connection: WAL, and a commit that has reached the disk
 * before it returns. The page cache is small because several days may be
 * open; reads of older pages go through the memory map instead.
 */
const PRAGMAS = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA temp_store = MEMORY;
PRAGMA cache_size = -16384;
PRAGMA mmap_size = 1073741824;
PRAGMA journal_size_limit = 67108864;
`;

export function prepareDatabase(db: DatabaseSync): void {
  db.exec(PRAGMAS);
  const mode = (db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode;
  if (mode !== 'wal') throw new Error(`WAL journaling is needed, but SQLite chose "${mode}"`);
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(TABLES);
    const row = db.prepare(`SELECT value FROM meta WHERE name = 'schema'`).get() as
      | { value: string }
      | undefined;
    if (!row) {
      db.prepare(`INSERT INTO meta (name, value) VALUES ('schema', ?)`).run(String(SCHEMA_VERSION));
    } else if (row.value === '1') {
      db.exec(FROM_VERSION_1);
      db.prepare(`UPDATE meta SET value = ? WHERE name = 'schema'`).run(String(SCHEMA_VERSION));
    } else if (row.value !== String(SCHEMA_VERSION)) {
      throw new Error(
        `written by another version of Lookout (schema ${row.value}, this one reads ${SCHEMA_VERSION})`,
      );
    }
    db.exec(INDEXES);
    db.exec('COMMIT');
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
