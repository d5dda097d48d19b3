/**
 * Type guards for everything the host sends: the webview trusts no message it has not checked, since a
 * webview's message channel is the one door into it.
 */
import type { CursorMessage, HostToWebview, InitMessage, PartialMessage, ReplyMessage, SettingsMessage, StatusMessage } from '../../src/protocol/view';
import type { ViewInit, ViewReply } from '../../src/protocol/viewData';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null;
}
function num(v: unknown): v is number {
  return typeof v === 'number';
}
function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
function str(v: unknown): v is string {
  return typeof v === 'string';
}
function strings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every(str);
}
function is<T>(v: unknown, ctor: { new (...a: never[]): T }): v is T {
  return v instanceof ctor;
}

function isInit(v: unknown): v is ViewInit {
  if (!isObj(v)) return false;
  return (
    str(v.title) &&
    strings(v.files) &&
    num(v.timeStart) &&
    num(v.timeEnd) &&
    finite(v.pageSize) &&
    finite(v.events) &&
    is(v.ownerKinds, Uint8Array) &&
    Array.isArray(v.kindCounts) &&
    v.kindCounts.every(finite) &&
    is(v.topOwners, Uint32Array) &&
    strings(v.topLabels) &&
    v.topLabels.length === v.topOwners.length &&
    Array.isArray(v.segments) &&
    v.segments.every((g) => isObj(g) && str(g.name) && str(g.type) && finite(g.node) && finite(g.start) && finite(g.pages) && finite(g.offset)) &&
    finite(v.rows) &&
    Array.isArray(v.nodes) &&
    v.nodes.every((n) => isObj(n) && finite(n.id)) &&
    Array.isArray(v.blocks) &&
    v.blocks.every((b) => isObj(b) && finite(b.id) && finite(b.start) && finite(b.pages) && Array.isArray(b.offline) && b.offline.every(num)) &&
    finite(v.anomalyCount) &&
    finite(v.unreadLines)
  );
}

function isPartial(v: unknown): boolean {
  if (!isObj(v)) return false;
  const s = v.series;
  return finite(v.bytesRead) && finite(v.bytesTotal) && finite(v.events) && isViewReply(s) && s.kind === 'series' && strings(v.labels) && v.labels.length === s.owners.length;
}

/** Checks the payload shape of each reply kind (typed arrays by class, lengths where they matter). */
export function isViewReply(v: unknown): v is ViewReply {
  if (!isObj(v)) return false;
  switch (v.kind) {
    case 'series': {
      if (!is(v.times, Float64Array) || !is(v.owners, Uint32Array) || !is(v.values, Float64Array)) return false;
      const n = v.times.length;
      return v.values.length === n * v.owners.length && [v.other, v.free, v.unknown].every((a) => is(a, Float64Array) && a.length === n);
    }
    case 'map': {
      if (!finite(v.nx) || !finite(v.ny)) return false;
      const cells = v.nx * v.ny;
      return is(v.owner, Int32Array) && v.owner.length === cells && is(v.fill, Uint8Array) && v.fill.length === cells && is(v.flags, Uint8Array) && v.flags.length === cells && is(v.rowNode, Int16Array) && v.rowNode.length === v.ny;
    }
    case 'page':
      return finite(v.pfn) && finite(v.node) && finite(v.dropped) && Array.isArray(v.changes) && v.changes.every((c) => isObj(c) && finite(c.owner) && num(c.from) && num(c.to) && finite(c.file) && finite(c.line) && str(c.event) && typeof c.shared === 'boolean');
    case 'nearest':
      return typeof v.found === 'boolean' && num(v.time) && finite(v.file) && finite(v.line) && num(v.pfn);
    case 'anomalies':
      return is(v.time, Float64Array) && is(v.kinds, Uint8Array) && is(v.severity, Uint8Array) && is(v.file, Uint16Array) && is(v.line, Uint32Array) && is(v.pfn, Float64Array) && strings(v.messages) && finite(v.total);
    case 'search':
      return Array.isArray(v.owners) && v.owners.every(finite) && finite(v.row) && num(v.pfn);
    case 'owners':
      return is(v.ids, Uint32Array) && strings(v.labels) && v.labels.length === v.ids.length;
    case 'error':
      return str(v.message);
    default:
      return false;
  }
}

/** The message if it is a well-formed host message, else null. */
export function parseHostMessage(data: unknown): HostToWebview | null {
  if (!isObj(data)) return null;
  switch (data.type) {
    case 'init':
      return isInit(data.init) ? (data as unknown as InitMessage) : null;
    case 'reply':
      return finite(data.requestId) && isViewReply(data.reply) ? (data as unknown as ReplyMessage) : null;
    case 'cursor':
      return finite(data.time) && finite(data.file) && finite(data.line) ? (data as unknown as CursorMessage) : null;
    case 'settings':
      return isObj(data.ownerColors) && Object.values(data.ownerColors).every(str) && finite(data.chartResolution) && data.chartResolution >= 1 ? (data as unknown as SettingsMessage) : null;
    case 'partial':
      return str(data.title) && (data.partial === null || isPartial(data.partial)) ? (data as unknown as PartialMessage) : null;
    case 'status':
      return (data.progress === undefined || finite(data.progress)) && (data.error === undefined || str(data.error)) ? (data as unknown as StatusMessage) : null;
    default:
      return null;
  }
}
