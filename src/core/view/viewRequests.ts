import { EVENT_NAMES } from '../model/events';
import { ownerLabel } from '../model/owners';
import { lowerBound, OwnershipIndex } from '../analysis/ownershipIndex';
import type { TraceModel } from '../trace';
import {
  CELL_ANOMALY,
  CELL_CONFLICT,
  CELL_OFFLINE,
  CELL_SHARED,
  INIT_OWNERS,
  MAX_OWNERS_ASKED,
  OWNER_KINDS,
  VIEW_ANOMALY_KINDS,
  type AnomaliesReply,
  type AnomaliesRequest,
  type MapReply,
  type MapRequest,
  type NearestReply,
  type NearestRequest,
  type OwnersReply,
  type OwnersRequest,
  type PageReply,
  type PageRequest,
  type SearchReply,
  type SearchRequest,
  type SeriesReply,
  type SeriesRequest,
  type ViewInit,
  type ViewReply,
  type ViewRequest,
} from '../../protocol/viewData';

/** Bytes per page frame: the views assume 4 KiB base pages, as every format read today does. */
export const PAGE_SIZE = 4096;

// Limits that keep one reply small enough to clone in a few milliseconds, whatever the webview asks.
const MAX_CELLS = 4096 * 4096;
const MAX_SAMPLES = 20000;
const MAX_NEAREST_PAGES = 1 << 16;

const indexes = new WeakMap<TraceModel, OwnershipIndex>();

/** The model's ownership index, built on first use: from the changes the analysis recorded, else by one more replay. */
export function ownershipIndexOf(model: TraceModel): OwnershipIndex {
  let ix = indexes.get(model);
  if (!ix) {
    const rec = model.ownershipRecording;
    ix = rec ? OwnershipIndex.fromRecording(model.builder, rec, model.result.order, model.result.anomalies) : OwnershipIndex.build(model.builder, model.result.anomalies);
    // The index now owns the recorded columns.
    model.ownershipRecording = undefined;
    indexes.set(model, ix);
  }
  return ix;
}

/** The summary the webview needs for its first paint. */
export function viewInit(model: TraceModel): ViewInit {
  const ix = ownershipIndexOf(model);
  const b = model.builder;
  const r = model.result;
  const n = b.owners.size;
  const ownerKinds = new Uint8Array(n);
  const kindCounts = OWNER_KINDS.map(() => 0);
  const ranked: number[] = [];
  const peak = (o: number): number => r.ownerPeak[o] ?? 0;
  for (let o = 0; o < n; o++) {
    const k = OWNER_KINDS.indexOf(o === 0 ? 'free' : b.owners.kindOf(o));
    ownerKinds[o] = k;
    if (o > 0 && peak(o) > 0) {
      ranked.push(o);
      kindCounts[k]++;
    }
  }
  ranked.sort((x, y) => peak(y) - peak(x) || x - y);
  const top = ranked.slice(0, INIT_OWNERS);
  const names = b.files.map((f) => f.path);
  const base = names.length ? names[0].split(/[\\/]/).pop() ?? names[0] : 'trace';
  return {
    title: names.length > 1 ? `${base} (+${names.length - 1})` : base,
    files: names,
    timeStart: r.timeStart,
    timeEnd: r.timeEnd,
    pageSize: PAGE_SIZE,
    events: b.events.length,
    ownerKinds,
    kindCounts,
    topOwners: Uint32Array.from(top),
    topLabels: top.map((o) => labelOf(model, o)),
    segments: ix.segments.map((g) => ({ ...g })),
    rows: ix.rows,
    nodes: [...b.layout.nodes.values()].sort((x, y) => x.id - y.id).map((d) => (d.name ? { id: d.id, name: d.name } : { id: d.id })),
    blocks: ix.blocks.map((k) => ({ id: k.id, start: k.start, pages: k.pages, offline: [...k.offline] })),
    anomalyCount: r.anomalies.length,
    // Errors past the per-file cap are counted, not stored: they are unread lines all the same.
    unreadLines: b.errors.length + b.droppedErrors,
  };
}

/** Answer one view request from the model. Bad requests get an `error` reply, never an exception. */
export function answerViewRequest(model: TraceModel, req: ViewRequest): ViewReply {
  try {
    switch (req.kind) {
      case 'series':
        return series(model, req);
      case 'map':
        return map(model, req);
      case 'page':
        return page(model, req);
      case 'nearest':
        return nearest(model, req);
      case 'anomalies':
        return anomalies(model, req);
      case 'search':
        return search(model, req);
      case 'owners':
        return owners(model, req);
      default:
        return { kind: 'error', message: `unknown request kind "${(req as { kind: unknown }).kind}"` };
    }
  } catch (e) {
    return { kind: 'error', message: e instanceof Error ? e.message : String(e) };
  }
}

function isCount(n: unknown, max: number): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= max;
}

function isRange(a: number, b: number): boolean {
  return Number.isFinite(a) && Number.isFinite(b) && b >= a;
}

class BadRequest extends Error {}

function series(model: TraceModel, q: SeriesRequest): SeriesReply {
  if (!isRange(q.t0, q.t1)) throw new BadRequest(`series: expected t0 <= t1, got ${q.t0}..${q.t1}`);
  if (!isCount(q.n, MAX_SAMPLES)) throw new BadRequest(`series: expected 1 <= n <= ${MAX_SAMPLES}, got ${q.n}`);
  if (!Number.isInteger(q.top) || q.top < 0) throw new BadRequest(`series: expected top >= 0, got ${q.top}`);
  const s = ownershipIndexOf(model).series(q.t0, q.t1, q.n, q.top, q.pinned ?? [], q.hidden ?? []);
  return { kind: 'series', ...s };
}

function map(model: TraceModel, q: MapRequest): MapReply {
  if (!isRange(q.t0, q.t1) || !isRange(q.y0, q.y1)) throw new BadRequest(`map: expected t0 <= t1 and y0 <= y1`);
  if (!isCount(q.nx, 8192) || !isCount(q.ny, 8192) || q.nx * q.ny > MAX_CELLS) throw new BadRequest(`map: expected 1..8192 columns and rows, at most ${MAX_CELLS} cells, got ${q.nx}x${q.ny}`);
  const ix = ownershipIndexOf(model);
  const { nx, ny } = q;
  const cells = ix.mapCells(q.t0, q.t1, nx, q.y0, q.y1, ny);
  const flags = new Uint8Array(nx * ny);
  for (let i = 0; i < flags.length; i++) if (cells.shared[i]) flags[i] = CELL_SHARED;
  const h = (q.y1 - q.y0) / ny;
  const lo = new Float64Array(ny);
  const rowNode = new Int16Array(ny);
  for (let r = 0; r < ny; r++) {
    lo[r] = Math.floor(q.y0 + r * h);
    rowNode[r] = ix.segmentOfRow(lo[r])?.node ?? -1;
  }
  const hiOf = (r: number): number => Math.max(lo[r] + 1, Math.floor(q.y0 + (r + 1) * h));
  const dt = (q.t1 - q.t0) / nx;
  // Rows holding row-space index y: the first row whose range ends past y, then every following row that starts at or before y.
  const rowsOf = (y: number, each: (r: number) => void): void => {
    for (let r = firstRowEndingAfter(y); r < ny && lo[r] <= y; r++) each(r);
  };
  // Rows whose range ends past y: the first of them, by binary search (row ends never decrease).
  const firstRowEndingAfter = (y: number): number => {
    let a = 0;
    let b = ny;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (hiOf(m) <= y) a = m + 1;
      else b = m;
    }
    return a;
  };
  const placed = ix.placedAnomalies;
  let first = 0;
  for (let hiA = placed.length; first < hiA; ) {
    const m = (first + hiA) >>> 1;
    if (placed[m].time < q.t0) first = m + 1;
    else hiA = m;
  }
  for (let k = first; k < placed.length && placed[k].time <= q.t1; k++) {
    const an = placed[k];
    const y = ix.rowOf(an.pfn);
    if (y < 0) continue;
    const col = dt > 0 ? Math.min(nx - 1, Math.floor((an.time - q.t0) / dt)) : 0;
    const bit = an.kind === 'owner-conflict' || an.kind === 'double-alloc' ? CELL_CONFLICT : CELL_ANOMALY;
    rowsOf(y, (r) => {
      flags[r * nx + col] |= bit;
    });
  }
  for (const blk of ix.blocks) {
    if (blk.offline.length === 0) continue;
    const ya = ix.rowOf(blk.start);
    if (ya < 0) continue;
    const yb = ya + blk.pages;
    // Only the rows over the block and the columns inside each interval: a pass over every cell per
    // interval was nx * ny work for each block, whatever its size.
    const r0 = firstRowEndingAfter(ya);
    for (let k = 0; k < blk.offline.length; k += 2) {
      const from = blk.offline[k];
      const to = blk.offline[k + 1];
      for (let col = 0; col < nx; col++) {
        const t = q.t0 + (col + 0.5) * dt;
        if (t < from || t >= to) continue;
        for (let r = r0; r < ny && lo[r] < yb; r++) flags[r * nx + col] |= CELL_OFFLINE;
      }
    }
  }
  return { kind: 'map', nx, ny, owner: cells.owner, fill: cells.fill, flags, rowNode };
}

function page(model: TraceModel, q: PageRequest): PageReply {
  if (!Number.isFinite(q.pfn)) throw new BadRequest(`page: expected a pfn, got ${q.pfn}`);
  const ix = ownershipIndexOf(model);
  const ev = model.builder.events;
  const seg = ix.segmentOfPfn(q.pfn);
  const reply: PageReply = { kind: 'page', pfn: q.pfn, node: seg?.node ?? -1, changes: [], dropped: 0 };
  if (seg) reply.region = seg.name;
  const p = ix.rankOf(q.pfn);
  if (p < 0) return reply;
  // Changes that leave owner and sharing as they were (a snapshot reference to an already shared page) are folded into the one before.
  const all = ix.history(p).filter((c, k, a) => k === 0 || c.owner !== a[k - 1].owner || c.shared !== a[k - 1].shared);
  const max = q.max !== undefined && q.max > 0 ? q.max : 500;
  const from = Math.max(0, all.length - max);
  reply.dropped = from;
  for (let k = from; k < all.length; k++) {
    const c = all[k];
    reply.changes.push({
      owner: c.owner,
      from: c.time,
      to: k + 1 < all.length ? all[k + 1].time : model.result.timeEnd,
      file: ev.file.get(c.event),
      line: ev.line.get(c.event),
      event: EVENT_NAMES[ev.kind.get(c.event)] ?? 'other',
      shared: c.shared,
    });
  }
  return reply;
}

function nearest(model: TraceModel, q: NearestRequest): NearestReply {
  if (!Number.isFinite(q.time)) throw new BadRequest(`nearest: expected a time, got ${q.time}`);
  const ix = ownershipIndexOf(model);
  const ev = model.builder.events;
  const none: NearestReply = { kind: 'nearest', found: false, time: NaN, file: 0, line: 0, pfn: NaN };
  const answer = (i: number, time: number): NearestReply => ({ kind: 'nearest', found: true, time, file: ev.file.get(i), line: ev.line.get(i), pfn: ev.pfn.get(i) });
  if (q.pfn0 !== undefined && q.pfn1 !== undefined) {
    const r0 = lowerBound(ix.pfns, q.pfn0);
    const r1 = Math.min(lowerBound(ix.pfns, q.pfn1), r0 + MAX_NEAREST_PAGES);
    // Ties go to the earlier event (then the lower pfn), as in the change log.
    let bestJ = -1;
    let bestP = -1;
    let bestD = Infinity;
    const { pageStart, permTime, permPos } = ix.pageOrder();
    for (let p = r0; p < r1; p++) {
      const a = pageStart[p];
      const b = pageStart[p + 1];
      const j = lowerBound(permTime, q.time, a, b);
      for (const k of [j - 1, j]) {
        if (k < a || k >= b) continue;
        const d = Math.abs(permTime[k] - q.time);
        if (d < bestD || (d === bestD && permPos[k] < permPos[bestJ])) {
          bestD = d;
          bestJ = k;
          bestP = p;
        }
      }
    }
    if (bestJ < 0) return none;
    return { ...answer(ix.eventAt(permPos[bestJ]), permTime[bestJ]), pfn: ix.pfns[bestP] };
  }
  const times = ix.eventTimes;
  if (times.length === 0) return none;
  const j = lowerBound(times, q.time);
  let k = j;
  if (j >= times.length || (j > 0 && q.time - times[j - 1] <= times[j] - q.time)) k = j - 1;
  // Several events may share that time: take the first of them, the line a reader expects.
  while (k > 0 && times[k - 1] === times[k]) k--;
  const i = ix.order ? ix.order[k] : k;
  return answer(i, times[k]);
}

function anomalies(model: TraceModel, q: AnomaliesRequest): AnomaliesReply {
  if (!isRange(q.t0, q.t1)) throw new BadRequest(`anomalies: expected t0 <= t1, got ${q.t0}..${q.t1}`);
  if (!Number.isInteger(q.max) || q.max < 0) throw new BadRequest(`anomalies: expected max >= 0, got ${q.max}`);
  const inWindow = model.result.anomalies.filter((a) => a.time === a.time && a.time >= q.t0 && a.time <= q.t1).sort((a, b) => a.time - b.time || a.line - b.line);
  const step = inWindow.length > q.max ? inWindow.length / q.max : 1;
  const picked = [];
  for (let x = 0; Math.floor(x) < inWindow.length && picked.length < q.max; x += step) picked.push(inWindow[Math.floor(x)]);
  const n = picked.length;
  const out: AnomaliesReply = {
    kind: 'anomalies',
    time: new Float64Array(n),
    kinds: new Uint8Array(n),
    severity: new Uint8Array(n),
    file: new Uint16Array(n),
    line: new Uint32Array(n),
    pfn: new Float64Array(n),
    messages: [],
    total: inWindow.length,
  };
  picked.forEach((a, k) => {
    out.time[k] = a.time;
    out.kinds[k] = VIEW_ANOMALY_KINDS.indexOf(a.kind);
    out.severity[k] = a.severity === 'error' ? 0 : a.severity === 'warning' ? 1 : 2;
    out.file[k] = a.file;
    out.line[k] = a.line;
    out.pfn[k] = a.pfn;
    out.messages.push(a.message);
  });
  return out;
}

/** An owner's label as the views show it; id 0 is "free". */
function labelOf(model: TraceModel, o: number): string {
  return o === 0 ? 'free' : ownerLabel(model.builder.owners.get(o));
}

function owners(model: TraceModel, q: OwnersRequest): OwnersReply {
  if (!Array.isArray(q.ids) || q.ids.length > MAX_OWNERS_ASKED) throw new BadRequest(`owners: expected at most ${MAX_OWNERS_ASKED} owner ids`);
  const size = model.builder.owners.size;
  const ids = new Uint32Array(q.ids.length);
  const labels: string[] = [];
  q.ids.forEach((o, k) => {
    if (!Number.isInteger(o) || o < 0 || o >= size) throw new BadRequest(`owners: no owner ${o} (ids run from 0 to ${size - 1})`);
    ids[k] = o;
    labels.push(labelOf(model, o));
  });
  return { kind: 'owners', ids, labels };
}

function search(model: TraceModel, q: SearchRequest): SearchReply {
  const ix = ownershipIndexOf(model);
  const text = q.query.trim().toLowerCase();
  const out: SearchReply = { kind: 'search', owners: [], row: -1, pfn: NaN };
  if (!text) return out;
  const hexPfn = /^0x[0-9a-f]+$/.test(text) ? parseInt(text.slice(2), 16) : NaN;
  const decimal = /^[0-9]+$/.test(text) ? parseInt(text, 10) : NaN;
  const pfn = hexPfn === hexPfn ? hexPfn : decimal;
  if (pfn === pfn) {
    const row = ix.rowOf(pfn);
    if (row >= 0) {
      out.row = row;
      out.pfn = pfn;
    }
  }
  const r = model.result;
  const hits: number[] = [];
  const owners = model.builder.owners;
  for (let o = 1; o < owners.size; o++) {
    if ((r.ownerPeak[o] ?? 0) === 0) continue;
    const owner = owners.get(o);
    if (owner.pid === decimal || ownerLabel(owner).toLowerCase().includes(text)) hits.push(o);
  }
  hits.sort((x, y) => (r.ownerPeak[y] ?? 0) - (r.ownerPeak[x] ?? 0) || x - y);
  out.owners = hits.slice(0, Math.max(0, q.max));
  return out;
}
