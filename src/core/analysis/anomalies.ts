/** Stable names of the anomaly rules (used in JSON, SARIF rule ids, settings and truth files). */
export const ANOMALY_KINDS = [
  'double-free',
  'double-alloc',
  'owner-conflict',
  'use-after-free',
  'snapshot-dangling',
  'cow-missed',
  'membind-violation',
  'offline-block',
  'order-mismatch',
  'leak',
  'parse-error',
] as const;

/** One of ANOMALY_KINDS. */
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** How bad an anomaly is; maps onto Problems-panel severities and SARIF levels. */
export type Severity = 'error' | 'warning' | 'info';

/** A place in an input file. */
export interface Location {
  file: number;
  line: number;
}

/** Something wrong with page ownership, at the line that shows it. */
export interface Anomaly {
  kind: AnomalyKind;
  severity: Severity;
  file: number;
  line: number;
  /** First page concerned (NaN for parse errors). */
  pfn: number;
  /** Trace time in ns (NaN when unknown). */
  time: number;
  message: string;
  /** Other lines that explain it (the earlier allocation, the free, the exit...). */
  related: Location[];
}

/** What a rule is, for hovers, docs and SARIF. */
export interface RuleInfo {
  kind: AnomalyKind;
  severity: Severity;
  title: string;
  /** One paragraph: what it means and what to do next. */
  explanation: string;
}

/** Every rule with its default severity and explanation. */
export const RULES: Record<AnomalyKind, RuleInfo> = {
  'double-free': {
    kind: 'double-free',
    severity: 'error',
    title: 'Page freed twice',
    explanation:
      'A free covers a page that an earlier free in the trace already returned, with no allocation in between. In the kernel this corrupts the free lists; in a trace it can also mean two owners both believed they held the page. Open the page history (hover on the pfn) to find the first free and the code path that frees again.',
  },
  'double-alloc': {
    kind: 'double-alloc',
    severity: 'error',
    title: 'Page allocated while still live',
    explanation:
      'An allocation hands out a page that an earlier allocation in the trace still holds: no free was seen in between. Either a free is missing from the capture (check for lost events or a gap in the trace), or the allocator handed the same frame to two owners. The later allocation owns the page from here on; the related line is the earlier allocation.',
  },
  'owner-conflict': {
    kind: 'owner-conflict',
    severity: 'error',
    title: 'Two exclusive owners at once',
    explanation:
      'A page is held exclusively by two owners at the same time, with no snapshot sharing between them: typically a filesystem block and a process or agent mapping of the same frame. The filesystem must be the ultimate arbiter of the physical address space; an agent that hands out DAX pages on its own (as RDMA did with FSDAX) produces exactly this. Find which side allocated the frame without asking the filesystem.',
  },
  'use-after-free': {
    kind: 'use-after-free',
    severity: 'error',
    title: 'Page used after it was freed',
    explanation:
      'A process maps, faults on or writes to a page after it was freed or handed to another owner. The mapping is stale: the process sees memory that now belongs to someone else. The related line is the free (or the reallocation); look for a missing unmap or TLB shootdown on that path.',
  },
  'snapshot-dangling': {
    kind: 'snapshot-dangling',
    severity: 'error',
    title: 'Snapshot references a freed page',
    explanation:
      'A live snapshot still references a page that was freed, migrated away, or already free when the snapshot referenced it: the zero-copy snapshot is silently corrupted, and restoring it will map foreign data. Pages referenced by a snapshot must stay pinned until the snapshot is dropped. Reported once per snapshot and page, where the page was lost (a later reallocation is the same corruption); the related line is the snapshot reference, or the free when the reference came after it.',
  },
  'cow-missed': {
    kind: 'cow-missed',
    severity: 'error',
    title: 'Write to a snapshot-shared page without copy-on-write',
    explanation:
      'A process wrote to a page that a live snapshot shares with it, and no copy-on-write break came first: the snapshot now holds the new data, not the data of its moment. Reported at the first such write, once per snapshot and page. Check that the snapshot write-protected every page it references, again after a restore (the related line is the reference).',
  },
  'membind-violation': {
    kind: 'membind-violation',
    severity: 'warning',
    title: 'Page placed outside the bound node',
    explanation:
      'A page for a process bound to a NUMA node (membind) was placed on another node, or a fault on the virtual node was serviced from outside the DAX range that backs it. Performance and persistence assumptions of the binding no longer hold. Check the fallback path of the allocator or the agent.',
  },
  'offline-block': {
    kind: 'offline-block',
    severity: 'error',
    title: 'Page used inside an offline memory block',
    explanation:
      'An allocation or mapping falls inside a memory block that is offline or was never onlined. The memory is not in the page allocator; using it means the hot-plug state and the users disagree. Faults and filesystem blocks in a devdax or fsdax region are not checked: those users map the device directly. Check the onlining order of the DAX device (daxctl reconfigure-device) against the first users.',
  },
  'order-mismatch': {
    kind: 'order-mismatch',
    severity: 'warning',
    title: 'Free with a different order than the allocation',
    explanation:
      'A free names a different order (number of pages) than the allocation of its head page, or its range swallows the head of another allocation. The kernel legitimately splits high-order pages (split_page, compound page teardown) and then frees the pieces one by one, so this is a warning and frees of non-head pages are never reported: check that the remaining pages of the allocation are freed too.',
  },
  leak: {
    kind: 'leak',
    severity: 'warning',
    title: 'Pages still owned after the process exited',
    explanation:
      'When the process exited it still owned these pages exclusively (no live snapshot shares them) and nothing freed them afterwards within the trace, or before its pid was reused. Reported once per allocation, at the allocation line; the related line is the exit. Pinned pages (RDMA, vmsplice, a snapshot without the owning reference) are the usual cause.',
  },
  'parse-error': {
    kind: 'parse-error',
    severity: 'error',
    title: 'Line could not be read',
    explanation:
      'The line does not match the detected format; the message says what was expected. The rest of the file is still read, so the figures are computed without this line.',
  },
};

/** Per-rule switches and severities (CLI config file, extension settings). */
export interface RuleConfig {
  /** Rules switched off. */
  disabled?: AnomalyKind[];
  /** Rules re-graded. */
  severity?: Partial<Record<AnomalyKind, Severity>>;
}
