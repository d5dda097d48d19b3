import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, EXIT_OK, EXIT_USAGE } from '../../src/cli/main';
import { EXPORT_SCHEMAS, EXPORT_TABLES } from '../../src/core/export/exportTables';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

// A process allocates two pages, a snapshot shares one and keeps it at a copy-on-write break, one page is
// freed twice, a filesystem block migrates, and the process exits holding its new page.
const TRACE = `pageledger-trace 1
node id=0 name=dram
block id=7 start=0x0 pages=32768 node=0 state=offline
50 online block=7
100 fork pid=1 child=100 comm=app
1000 alloc pfn=0x10 order=1 pid=100 comm=app node=0
1100 map pid=100 vaddr=0x7f0000001000 pfn=0x10
1200 snapshot-begin snap=1 pid=100
1201 snapref snap=1 vaddr=0x7f0000001000 pfn=0x10
1202 snapshot-end snap=1
1300 cow snap=1 pid=100 vaddr=0x7f0000001000 old=0x10 new=0x20
1350 fsalloc dev=pmem0 ino=12 off=0x2000 pfn=0x40
1400 free pfn=0x11 order=0
1500 free pfn=0x11 order=0
1550 migrate pfn=0x40 to=0x50
1600 exit pid=100
`;

const dir = mkdtempSync(join(tmpdir(), 'pl-export-'));
const file = join(dir, 't.pltrace');
writeFileSync(file, TRACE);

// Expected by hand from the trace above (line numbers count the header line).
const EVENTS_CSV = `event_id,file,line,time_ns,kind,pfn,order,pages,owner_id,pid,node,vaddr,new_pfn,snapshot_id,child_pid,block_id,offset,agent_id
0,F,4,50,online,,,,,,,,,,,7,,
1,F,5,100,fork,,,,2,1,,,,,100,,,
2,F,6,1000,alloc,16,1,2,2,100,0,,,,,,,
3,F,7,1100,map,16,0,1,2,100,,139637976731648,,,,,,
4,F,8,1200,snapshotBegin,,,,3,100,,,,1,,,,
5,F,9,1201,snapshotRef,16,0,1,3,,,139637976731648,,1,,,,
6,F,10,1202,snapshotEnd,,,,3,,,,,1,,,,
7,F,11,1300,cow,16,0,1,2,100,,139637976731648,32,1,,,,
8,F,12,1350,fsAlloc,64,0,1,4,,,,,,,,8192,
9,F,13,1400,free,17,0,1,,,,,,,,,,
10,F,14,1500,free,17,0,1,,,,,,,,,,
11,F,15,1550,migrate,64,0,1,,,,,80,,,,,
12,F,16,1600,exit,,,,2,100,,,,,,,,
`;
const INTERVALS_CSV = `pfn,owner_id,start_ns,end_ns,start_line,end_line,shared,start_event_id,end_event_id
16,2,1000,1201,6,9,false,2,5
16,2,1201,1300,9,11,true,5,7
16,3,1300,,11,,false,7,
17,2,1000,1400,6,13,false,2,9
32,2,1300,,11,,false,7,
64,4,1350,1550,12,15,false,8,11
80,4,1550,,15,,false,11,
`;
const OWNERS_CSV = `owner_id,kind,pid,tgid,comm,dev,ino,snap,name,live_pages,peak_pages
1,kernel,,,,,,,,0,0
2,process,100,,app,,,,,1,2
3,snapshot,100,,,,,1,,1,1
4,file,,,,pmem0,12,,,1,1
`;
const ANOMALIES_CSV = `kind,severity,file,line,pfn,time_ns,message
leak,warning,F,11,32,1300,1 page from pfn 0x20 still owned by pid 100 after it exited at line 16
double-free,error,F,14,17,1500,pfn 0x11 freed again: already freed at line 13
`;

/** CSV text as DuckDB returns rows of it as JSON: every value a string, empty fields null, true/false as booleans. */
function csvRows(csv: string): Record<string, string | boolean | null>[] {
  const [head, ...lines] = csv.trimEnd().split('\n');
  const names = head.split(',');
  return lines.map((l) => {
    const cells = l.split(',');
    // The message column (last) may hold commas; none of these do.
    return Object.fromEntries(names.map((n, k) => [n, cells[k] === '' ? null : cells[k] === 'true' ? true : cells[k] === 'false' ? false : cells[k].replace(/^F$/, file)]));
  });
}

describe('export --csv', () => {
  const out = join(dir, 'csv');
  let r: { code: number; out: string; err: string };
  beforeAll(async () => {
    r = await run(['export', file, '--csv', out, '--quiet']);
  });

  it('writes the four tables and says how many rows each has', () => {
    expect(r.code).toBe(EXIT_OK);
    expect(r.err).toBe('');
    expect(r.out).toBe([`wrote ${out}/events.csv: 13 rows`, `wrote ${out}/intervals.csv: 7 rows`, `wrote ${out}/owners.csv: 4 rows`, `wrote ${out}/anomalies.csv: 2 rows`].join('\n') + '\n');
  });

  it('writes every value of every table', () => {
    const f = (s: string): string => s.replace(/^(\d+,)F,/gm, `$1${file},`).replace(/^(\w[\w-]*,\w+,)F,/gm, `$1${file},`);
    expect(readFileSync(join(out, 'events.csv'), 'utf8')).toBe(f(EVENTS_CSV));
    expect(readFileSync(join(out, 'intervals.csv'), 'utf8')).toBe(INTERVALS_CSV);
    expect(readFileSync(join(out, 'owners.csv'), 'utf8')).toBe(OWNERS_CSV);
    expect(readFileSync(join(out, 'anomalies.csv'), 'utf8')).toBe(f(ANOMALIES_CSV));
  });
});

describe('export --parquet, read back with DuckDB', () => {
  const out = join(dir, 'pq');
  let db: DuckDBInstance;
  let con: DuckDBConnection;
  const rows = async (sql: string): Promise<Record<string, unknown>[]> => (await con.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  const table = (t: string): string => `'${join(out, t + '.parquet')}'`;

  beforeAll(async () => {
    const r = await run(['export', file, '--parquet', out, '--quiet']);
    expect(r.code).toBe(EXIT_OK);
    db = await DuckDBInstance.create(':memory:');
    con = await db.connect();
  });
  afterAll(() => {
    con.closeSync();
    db.closeSync();
  });

  it('has the documented columns and types', async () => {
    const duck = { INT64: 'BIGINT', INT32: 'INTEGER', UTF8: 'VARCHAR', BOOLEAN: 'BOOLEAN' } as const;
    for (const t of EXPORT_TABLES) {
      const cols = await rows(`DESCRIBE SELECT * FROM ${table(t)}`);
      expect(cols.map((c) => [c.column_name, c.column_type])).toEqual(EXPORT_SCHEMAS[t].map((c) => [c.name, duck[c.type]]));
    }
  });

  it('holds the same rows as the CSV export, nulls included', async () => {
    // DuckDB's JSON rows give BIGINT as strings and INTEGER as numbers: compare all as strings.
    const str = (rs: Record<string, unknown>[]): Record<string, unknown>[] => rs.map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v])));
    expect(str(await rows(`SELECT * FROM ${table('events')} ORDER BY event_id`))).toEqual(csvRows(EVENTS_CSV));
    expect(str(await rows(`SELECT * FROM ${table('intervals')}`))).toEqual(csvRows(INTERVALS_CSV));
    expect(str(await rows(`SELECT * FROM ${table('owners')}`))).toEqual(csvRows(OWNERS_CSV));
    expect(str(await rows(`SELECT * FROM ${table('anomalies')}`))).toEqual(csvRows(ANOMALIES_CSV));
  });

  it('writes one row group per batch', async () => {
    const small = join(dir, 'pq3');
    expect((await run(['export', file, '--parquet', small, '--batch-rows', '3', '--quiet'])).code).toBe(EXIT_OK);
    const groups = await rows(`SELECT count(DISTINCT row_group_id)::INTEGER AS g, max(row_group_num_rows)::INTEGER AS most FROM parquet_metadata('${join(small, 'events.parquet')}')`);
    expect(groups).toEqual([{ g: 5, most: 3 }]);
    const all = await rows(`SELECT * FROM '${join(small, 'events.parquet')}' EXCEPT SELECT * FROM ${table('events')}`);
    expect(all).toEqual([]);
    const intervals = await rows(`SELECT count(*)::INTEGER AS n FROM '${join(small, 'intervals.parquet')}'`);
    expect(intervals).toEqual([{ n: 7 }]);
  });

  it('gives the results docs/export.md shows for its example trace and queries', async () => {
    const md = readFileSync(join(__dirname, '../../docs/export.md'), 'utf8');
    expect(md.match(/^```\n(pageledger-trace[\s\S]*?)^```$/m)?.[1]).toBe(TRACE);
    const examples = [...md.matchAll(/^```sql\n([\s\S]*?)^```\n\n((?:\|.*\n)+)/gm)];
    expect(examples).toHaveLength(2);
    for (const [, sql, table] of examples) {
      const [head, , ...body] = table.trimEnd().split('\n').map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
      const want = body.map((cells) => Object.fromEntries(head.map((h, k) => [h, cells[k] === 'NULL' ? null : cells[k]])));
      const got = await rows(sql.replaceAll("'out/", `'${out}/`));
      expect(got.map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? null : String(v)])))).toEqual(want);
    }
  });

  it('answers the example queries at other times', async () => {
    // Pages per owner at t = 1250 ns: pid 100 holds pfns 0x10 (shared with snapshot 1) and 0x11.
    const at = (t: number): string => `SELECT o.kind, o.pid, o.comm, count(*)::INTEGER AS pages
      FROM ${table('intervals')} i JOIN ${table('owners')} o USING (owner_id)
      WHERE i.start_ns <= ${t} AND (i.end_ns IS NULL OR i.end_ns > ${t})
      GROUP BY ALL ORDER BY pages DESC, o.kind`;
    expect(await rows(at(1250))).toEqual([{ kind: 'process', pid: 100, comm: 'app', pages: 2 }]);
    // At 1400 the free of 0x11 has happened; 0x10 went to the snapshot at the CoW break, 0x20 to the process.
    expect(await rows(at(1400))).toEqual([
      { kind: 'file', pid: null, comm: null, pages: 1 },
      { kind: 'process', pid: 100, comm: 'app', pages: 1 },
      { kind: 'snapshot', pid: 100, comm: null, pages: 1 },
    ]);
    // Longest-held pages of pid 100, pages still held counted to the last event (1600).
    const longest = await rows(`SELECT i.pfn, sum(coalesce(i.end_ns, (SELECT max(time_ns) FROM ${table('events')})) - i.start_ns)::BIGINT AS held_ns,
        bool_or(i.end_ns IS NULL) AS still_held
      FROM ${table('intervals')} i JOIN ${table('owners')} o USING (owner_id)
      WHERE o.kind = 'process' AND o.pid = 100
      GROUP BY i.pfn ORDER BY held_ns DESC, i.pfn LIMIT 10`);
    expect(longest).toEqual([
      { pfn: '17', held_ns: '400', still_held: false },
      { pfn: '16', held_ns: '300', still_held: false },
      { pfn: '32', held_ns: '300', still_held: true },
    ]);
  });
});

describe('export usage', () => {
  it('needs an output directory and a file', async () => {
    const a = await run(['export', file]);
    expect(a.code).toBe(EXIT_USAGE);
    expect(a.err).toBe('pageledger: export needs --parquet DIR or --csv DIR\n(see pageledger export --help)\n');
    const b = await run(['export', '--csv', join(dir, 'none')]);
    expect(b.code).toBe(EXIT_USAGE);
    expect(b.err).toBe('pageledger: export needs at least one FILE\n(see pageledger export --help)\n');
  });

  it('rejects a missing input, an unknown option, a bad batch size and an output that is a file', async () => {
    const missing = await run(['export', join(dir, 'nope.pltrace'), '--csv', join(dir, 'x')]);
    expect([missing.code, missing.err]).toEqual([EXIT_USAGE, `pageledger: ${join(dir, 'nope.pltrace')}: no such file\n`]);
    const unknown = await run(['export', file, '--csv', join(dir, 'x'), '--jsonl']);
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toContain("Unknown option '--jsonl'");
    const batch = await run(['export', file, '--csv', join(dir, 'x'), '--batch-rows', '0']);
    expect([batch.code, batch.err]).toEqual([EXIT_USAGE, 'pageledger: --batch-rows must be at least 1\n(see pageledger export --help)\n']);
    const notDir = await run(['export', file, '--parquet', file, '--quiet']);
    expect([notDir.code, notDir.err]).toEqual([EXIT_USAGE, `pageledger: ${file}: cannot create the output directory (EEXIST)\n`]);
  });

  it('has its own --help and a line in the top-level help', async () => {
    const h = await run(['export', '--help']);
    expect(h.code).toBe(EXIT_OK);
    expect(h.out.split('\n')[0]).toBe('pageledger export FILE... (--parquet DIR | --csv DIR) [options]');
    const top = await run(['--help']);
    expect(top.out).toContain('\n  pageledger export FILE... (--parquet DIR | --csv DIR) [--config FILE] [--format NAME]\n');
  });
});
