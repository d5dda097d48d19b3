import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BATCH_ROWS, EXPORT_SCHEMAS, EXPORT_TABLES, tableBatches, type ExportTableName } from '../core/export/exportTables';
import type { TraceModel } from '../core/trace';
import { writeCsvTable } from './exportCsv';
import { writeParquetTable } from './exportParquet';

/** File format of an export. */
export type ExportFormat = 'parquet' | 'csv';

/** One file an export wrote. */
export interface ExportedTable {
  table: ExportTableName;
  format: ExportFormat;
  path: string;
  rows: number;
}

/** Thrown when an output directory cannot be made or written (the CLI reports it with exit code 2). */
export class ExportDirError extends Error {}

/** Make `dir` (and its parents) unless it exists as a directory. */
function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new ExportDirError(`${dir}: cannot create the output directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!statSync(dir).isDirectory()) throw new ExportDirError(`${dir}: is not a directory`);
}

/** Write the four tables of a model into `dir` as TABLE.parquet or TABLE.csv, one table after the other. */
export async function exportTrace(model: TraceModel, dir: string, format: ExportFormat, batchRows = DEFAULT_BATCH_ROWS): Promise<ExportedTable[]> {
  ensureDir(dir);
  const done: ExportedTable[] = [];
  for (const table of EXPORT_TABLES) {
    const path = join(dir, `${table}.${format}`);
    const columns = EXPORT_SCHEMAS[table];
    const batches = tableBatches(model, table, batchRows);
    let rows: number;
    try {
      rows = format === 'csv' ? writeCsvTable(path, columns, batches) : await writeParquetTable(path, columns, batches);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code) throw new ExportDirError(`${path}: cannot be written (${code})`);
      throw e;
    }
    done.push({ table, format, path, rows });
  }
  return done;
}
