import { closeSync, openSync, writeSync } from 'node:fs';
import type { ExportBatch, ExportColumn } from '../core/export/exportTables';

// Text is written in slices of this many rows: one string per 128 K-row batch of the events table would be
// about 12 MB, and building it whole buys nothing over a few smaller writes.
const ROWS_PER_WRITE = 8192;

/** A CSV field for a text value: quoted when it holds a comma, a quote or a line end (RFC 4180); null is an empty field. */
function text(s: string | null): string {
  if (s === null) return '';
  // An empty string is quoted so that it reads back as '' rather than as a null.
  if (s === '' || /[",\r\n]/.test(s)) return '"' + s.replace(/"/g, '""') + '"';
  return s;
}

/**
 * Write one table as CSV with a header line: integers in decimal, flags as true/false, nulls as empty
 * fields. Batches are written as they come, so memory stays one batch. Returns the rows written.
 */
export function writeCsvTable(path: string, columns: readonly ExportColumn[], batches: Iterable<ExportBatch>): number {
  const fd = openSync(path, 'w');
  let total = 0;
  try {
    writeSync(fd, columns.map((c) => text(c.name)).join(',') + '\n');
    for (const batch of batches) {
      for (let from = 0; from < batch.rows; from += ROWS_PER_WRITE) {
        const to = Math.min(batch.rows, from + ROWS_PER_WRITE);
        let out = '';
        for (let k = from; k < to; k++) {
          for (let c = 0; c < batch.columns.length; c++) {
            if (c > 0) out += ',';
            const cv = batch.columns[c];
            if (cv.type === 'UTF8') out += text(cv.values[k]);
            else if (cv.type === 'BOOLEAN') out += cv.values[k] ? 'true' : 'false';
            else {
              const v = cv.values[k];
              if (v === v) out += String(v);
            }
          }
          out += '\n';
        }
        writeSync(fd, out);
      }
      total += batch.rows;
    }
  } finally {
    closeSync(fd);
  }
  return total;
}
