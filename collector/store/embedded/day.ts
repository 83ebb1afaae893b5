import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from 'node:sqlite';
import type { CountResult, WriteOutcome } from '../store.ts';
import type { Plan } from './match.ts';
import { SCOPE_CONDITION } from './match.ts';
import type { Row } from './record.ts';
import { prepareDatabase, SEQUENCE_BITS } from './schema.ts';

/** One line as searches read it. */
export interface Line {
  time: number;
  offset: number;
  id: string;
  doc: string;
}

/** The stream a line belongs to, by name, so it can be found again in another day's file. */
export type StreamName = [namespace: string, pod: string, container: string, path: string, fileId: string];

const SEQUENCE = 1n << SEQUENCE_BITS;
/** The first key of a millisecond and the last one. */
const firstKey = (ms: number) => BigInt(ms) << SEQUENCE_BITS;
const lastKey = (ms: number) => firstKey(ms) + SEQUENCE - 1n;

const LINE_COLUMNS = 'l.time AS time, l.byte_offset AS offset, l.id AS id, d.doc AS doc';

/**
 * The SQLite file of one UTC day and the statements run on it. Every method
 * is one bounded, synchronous piece of work; the store decides how to
 * split a request into them.
 */
export class DayFile {
  readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  /** Stream ids by name; dropped whenever a transaction rolls back. */
  private readonly streams = new Map<string, number>();

  constructor(path: string) {
    this.db = new DatabaseSync(path, { timeout: 5_000 });
    try {
      prepareDatabase(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }

  /** Prepared once per SQL text; the texts come from a small fixed set of shapes. */
  private statement(sql: string, bigInts = false): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      if (bigInts) statement.setReadBigInts(true);
      if (this.statements.size >= 200) this.statements.clear();
      this.statements.set(sql, statement);
    }
    return statement;
  }

  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
  }

  /** With synchronous = FULL, COMMIT returns once the WAL is on disk. */
  commit(): void {
    this.db.exec('COMMIT');
  }

  rollback(): void {
    if (this.db.isTransaction) this.db.exec('ROLLBACK');
    this.streams.clear();
  }

  /** Inside a transaction. */
  insert(row: Row): WriteOutcome {
    const max = this.statement('SELECT max(line) AS line FROM logs WHERE line BETWEEN ? AND ?', true).get(
      firstKey(row.time),
      lastKey(row.time),
    ) as { line: bigint | null };
    const line = max.line === null ? firstKey(row.time) : max.line + 1n;
    if (line > lastKey(row.time)) {
      const at = new Date(row.time).toISOString();
      return {
        result: 'reject',
        status: 400,
        reason: `more than ${SEQUENCE} lines in the millisecond ${at}`,
      };
    }
    const inserted = this.statement(
      'INSERT INTO logs (line, id, time, byte_offset, stream) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
    ).run(
      line,
      row.id,
      row.time,
      row.offset,
      this.streamOf([row.namespace, row.pod, row.container, row.path, row.fileId]),
    );
    // An id already stored is the same line written again: it stays stored once, as first written.
    if (inserted.changes === 0) return { result: 'ok', duplicate: true };
    this.statement('INSERT INTO docs (line, doc) VALUES (?, ?)').run(line, row.doc);
    this.statement('INSERT INTO log_fts (rowid, body, keys) VALUES (?, ?, ?)').run(line, row.body, row.keys);
    return { result: 'ok' };
  }

  private streamOf(name: StreamName): number {
    const key = name.join('\u0000');
    let id = this.streams.get(key);
    if (id === undefined) {
      this.statement(
        'INSERT INTO streams (namespace, pod, container, path, file_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ).run(...name);
      id = this.streamId(name)!;
      if (this.streams.size >= 100_000) this.streams.clear();
      this.streams.set(key, id);
    }
    return id;
  }

  private streamId(name: StreamName): number | undefined {
    const row = this.statement(
      'SELECT id FROM streams WHERE namespace = ? AND pod = ? AND container = ? AND path = ? AND file_id = ?',
    ).get(...name) as { id: number } | undefined;
    return row?.id;
  }

  /**
   * The streams whose lines are the context of a line of `name`: those of
   * the same file identity in the namespace, whatever path, pod or container
   * the file was read under; for a line without a file id, those of the
   * same namespace, pod, container and path.
   */
  contextStreams(name: StreamName): number[] {
    const [namespace, pod, container, path, fileId] = name;
    const rows = (
      fileId === ''
        ? this.statement(
            'SELECT id FROM streams WHERE namespace = ? AND pod = ? AND container = ? AND path = ?',
          ).all(namespace, pod, container, path)
        : this.statement('SELECT id FROM streams WHERE namespace = ? AND file_id = ?').all(namespace, fileId)
    ) as { id: number }[];
    return rows.map((r) => r.id);
  }

  /**
   * `FROM … WHERE …` over [fromMs, toMs]: the full-text index drives, in key
   * (time) order, and `logs` and `docs` are looked up by key for what it finds.
   */
  private source(p: Plan, fromMs: number, toMs: number, needs: { lines?: boolean; docs?: boolean }) {
    let sql = 'FROM log_fts f';
    if (needs.lines || p.conditions.length > 0) sql += ' CROSS JOIN logs l ON l.line = f.rowid';
    if (needs.docs) sql += ' CROSS JOIN docs d ON d.line = f.rowid';
    sql += ' WHERE log_fts MATCH ? AND f.rowid BETWEEN ? AND ?';
    const params: SQLInputValue[] = [p.match!, firstKey(fromMs), lastKey(toMs)];
    for (const condition of p.conditions) {
      sql += ` AND ${condition.sql}`;
      params.push(...condition.params);
    }
    return { sql, params };
  }

  /** Matches in time order (but in no fixed order within a millisecond). */
  timeOrdered(p: Plan, fromMs: number, toMs: number, desc: boolean, limit: number): Line[] {
    const { sql, params } = this.source(p, fromMs, toMs, { lines: true, docs: true });
    return this.statement(
      `SELECT ${LINE_COLUMNS} ${sql} ORDER BY f.rowid ${desc ? 'DESC' : 'ASC'} LIMIT ?`,
    ).all(...params, limit) as unknown as Line[];
  }

  /** Matches of one millisecond in (offset, id) order, after a cursor's (offset, id) when given. */
  millisecond(p: Plan, time: number, desc: boolean, limit: number, after?: [number, string]): Line[] {
    const { sql, params } = this.source(p, time, time, { lines: true, docs: true });
    const dir = desc ? 'DESC' : 'ASC';
    let where = sql;
    if (after) {
      where += ` AND (l.byte_offset, l.id) ${desc ? '<' : '>'} (?, ?)`;
      params.push(after[0], after[1]);
    }
    return this.statement(
      `SELECT ${LINE_COLUMNS} ${where} ORDER BY l.byte_offset ${dir}, l.id ${dir} LIMIT ?`,
    ).all(...params, limit) as unknown as Line[];
  }

  count(p: Plan, fromMs: number, toMs: number, limit: number): number {
    const { sql, params } = this.source(p, fromMs, toMs, {});
    const row = this.statement(`SELECT count(*) AS n FROM (SELECT 1 ${sql} LIMIT ?)`).get(...params, limit);
    return (row as { n: number }).n;
  }

  /**
   * Counts per combination of the values at `paths` (SQLite JSON paths into the document), most
   * lines first, at most `limit` combinations.
   */
  groupCounts(
    p: Plan,
    fromMs: number,
    toMs: number,
    paths: readonly string[],
    limit: number,
  ): CountResult['groups'] {
    const { sql, params } = this.source(p, fromMs, toMs, { docs: true });
    const columns = paths.map((_, i) => `json_extract(d.doc, ?) AS g${i}`).join(', ');
    const keys = paths.map((_, i) => `g${i}`).join(', ');
    const rows = this.statement(
      `SELECT ${columns}, count(*) AS n ${sql} GROUP BY ${keys} ORDER BY n DESC LIMIT ?`,
    ).all(...paths, ...params, limit) as Record<string, SQLOutputValue>[];
    return rows.map((row) => ({
      values: paths.map((_, i) => {
        const value = row[`g${i}`];
        return value === null || value === undefined ? null : String(value);
      }),
      count: Number(row.n),
    }));
  }

  /** Counts by bucket number (time / interval). */
  histogram(p: Plan, fromMs: number, toMs: number, interval: number): { bucket: number; n: number }[] {
    const { sql, params } = this.source(p, fromMs, toMs, {});
    return this.statement(
      `SELECT (f.rowid >> ${SEQUENCE_BITS}) / ? AS bucket, count(*) AS n ${sql} GROUP BY bucket`,
    ).all(BigInt(interval), ...params) as { bucket: number; n: number }[];
  }

  idTimes(ids: string): number[] {
    const rows = this.statement(
      'SELECT DISTINCT time FROM logs WHERE id IN (SELECT value FROM json_each(?))',
    ).all(ids) as { time: number }[];
    return rows.map((r) => r.time);
  }

  lineCount(): number {
    return (this.statement('SELECT count(*) AS n FROM logs').get() as { n: number }).n;
  }

  /** Ids of the lines after a key, in key order, with the key of the last one. */
  idsAfter(after: bigint, limit: number): { ids: string[]; last: bigint } {
    const rows = this.statement('SELECT line, id FROM logs WHERE line > ? ORDER BY line LIMIT ?', true).all(
      after,
      limit,
    ) as { line: bigint; id: string }[];
    return { ids: rows.map((r) => r.id), last: rows.at(-1)?.line ?? after };
  }

  /** A line by id, with its stream, when it is in the namespaces (a JSON array) or no scope is given. */
  anchor(id: string, namespaces: string | undefined): (Line & { stream: StreamName }) | undefined {
    let sql = `SELECT ${LINE_COLUMNS}, s.namespace, s.pod, s.container, s.path, s.file_id
      FROM logs l CROSS JOIN docs d ON d.line = l.line CROSS JOIN streams s ON s.id = l.stream WHERE l.id = ?`;
    const params: SQLInputValue[] = [id];
    if (namespaces !== undefined) {
      sql += ` AND ${SCOPE_CONDITION}`;
      params.push(namespaces);
    }
    const row = this.statement(sql).get(...params) as
      | (Line & { namespace: string; pod: string; container: string; path: string; file_id: string })
      | undefined;
    if (!row) return undefined;
    const { namespace, pod, container, path, file_id, ...line } = row;
    return { ...line, stream: [namespace, pod, container, path, file_id] };
  }

  /** Lines of one stream before (desc) or after a line's sort key, nearest first. */
  neighbours(stream: number, key: Line, desc: boolean, limit: number): Line[] {
    const dir = desc ? 'DESC' : 'ASC';
    return this.statement(
      `SELECT ${LINE_COLUMNS} FROM logs l CROSS JOIN docs d ON d.line = l.line
       WHERE l.stream = ? AND (l.time, l.byte_offset, l.id) ${desc ? '<' : '>'} (?, ?, ?)
       ORDER BY l.time ${dir}, l.byte_offset ${dir}, l.id ${dir} LIMIT ?`,
    ).all(stream, key.time, key.offset, key.id, limit) as unknown as Line[];
  }
}
