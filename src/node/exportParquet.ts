import { ParquetWriter, fileWriter, type ColumnSource, type SchemaElement } from 'hyparquet-writer';
import type { ColumnValues, ExportBatch, ExportColumn } from '../core/export/exportTables';

/** The Parquet schema of a table: INT64, INT32, BYTE_ARRAY annotated UTF8, BOOLEAN; OPTIONAL where nulls occur. */
export function parquetSchema(columns: readonly ExportColumn[]): SchemaElement[] {
  return [
    { name: 'root', num_children: columns.length },
    ...columns.map((c): SchemaElement => ({
      name: c.name,
      type: c.type === 'UTF8' ? 'BYTE_ARRAY' : c.type,
      ...(c.type === 'UTF8' ? { converted_type: 'UTF8' as const } : {}),
      repetition_type: c.nullable ? 'OPTIONAL' : 'REQUIRED',
    })),
  ];
}

/** One batch column in the form hyparquet-writer takes: bigints for INT64, null for a missing value. */
function columnData(v: ColumnValues, rows: number): ColumnSource['data'] {
  if (v.type === 'UTF8') return v.values;
  if (v.type === 'BOOLEAN') {
    const out = new Array<boolean>(rows);
    for (let k = 0; k < rows; k++) out[k] = v.values[k] !== 0;
    return out;
  }
  const a = v.values;
  let nulls = false;
  for (let k = 0; k < rows && !nulls; k++) nulls = a[k] !== a[k];
  // A batch without nulls goes as a typed array even in an OPTIONAL column: no boxed value per row.
  if (!nulls) {
    if (v.type === 'INT32') return Int32Array.from(a);
    const out = new BigInt64Array(rows);
    for (let k = 0; k < rows; k++) out[k] = BigInt(a[k]);
    return out;
  }
  const out = new Array<number | bigint | null>(rows);
  if (v.type === 'INT32') for (let k = 0; k < rows; k++) out[k] = a[k] === a[k] ? a[k] : null;
  else for (let k = 0; k < rows; k++) out[k] = a[k] === a[k] ? BigInt(a[k]) : null;
  return out;
}

/**
 * Write one table as a Parquet file, one row group per batch (statistics on, Snappy pages), so a reader
 * such as DuckDB skips row groups by their min/max and the writer holds one batch at a time. Returns the
 * rows written.
 */
export async function writeParquetTable(path: string, columns: readonly ExportColumn[], batches: Iterable<ExportBatch>): Promise<number> {
  const writer = new ParquetWriter({ writer: fileWriter(path), schema: parquetSchema(columns), createdBy: 'pageledger' });
  let total = 0;
  for (const batch of batches) {
    if (batch.rows === 0) continue;
    await writer.write({ columnData: columns.map((c, j) => ({ name: c.name, data: columnData(batch.columns[j], batch.rows) })), rowGroupSize: batch.rows });
    total += batch.rows;
  }
  await writer.finish();
  return total;
}
