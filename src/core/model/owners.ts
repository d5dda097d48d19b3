/** What kind of thing holds a page. */
export type OwnerKind = 'kernel' | 'process' | 'file' | 'snapshot' | 'agent' | 'free';

/** One owner, as it appears in summaries and in the UI. */
export interface Owner {
  id: number;
  kind: OwnerKind;
  /** Process id (process owners, and the process a snapshot was taken of). */
  pid?: number;
  /** Thread group id where the source has it. */
  tgid?: number;
  /** Task name. */
  comm?: string;
  /** Block device or `major:minor` of a file owner. */
  dev?: string;
  /** Inode number of a file owner. */
  ino?: number;
  /** Snapshot id of a snapshot owner. */
  snap?: number;
  /** Agent name (e.g. `numactlX`). */
  name?: string;
}

/**
 * x as a small integer where it is one: numbers parsed into a Float64Array come back as doubles, and a
 * double stored in an object or as a Map key is a separate 16-byte box (17 bytes an owner, measured on
 * 425 k process owners). -0 and fractions stay as they are.
 */
function small(x: number): number {
  return (x | 0) === x && x !== 0 ? x | 0 : x;
}

/** Kinds whose holding of a page excludes every other exclusive holder. Snapshots share. */
export function isExclusiveKind(kind: OwnerKind): boolean {
  return kind !== 'snapshot' && kind !== 'free';
}

/**
 * Interns owners to small integer ids so the event columns store 4 bytes per owner. Id 0 means "no
 * owner named"; id 1 is always the kernel. Lookups are keyed by number (pid, snapshot id) or by the
 * strings as they are (device then inode, agent name): a string key built per lookup ('p' + pid) cost a
 * string and a map entry per owner (about 70 bytes each, 425 k owners at 10 M native events) and the
 * time to build and hash it on every fault and file event.
 */
export class OwnerTable {
  // Processes are looked up on nearly every event.
  private readonly byPid = new Map<number, number>();
  // Snapshot events (about 1 in 10 native events) name their snapshot.
  private readonly bySnap = new Map<number, number>();
  /** File owners by device, then inode. */
  private readonly byFile = new Map<string, Map<number, number>>();
  private readonly byAgent = new Map<string, number>();
  readonly list: Owner[] = [{ id: 0, kind: 'free' }, { id: 1, kind: 'kernel' }];
  // Set by fromList: the lookup maps are built on the first lookup, not at load (85 k owners took 100 ms
  // to intern one by one when an index was loaded, and a loaded trace is often only viewed).
  private unindexed = false;

  /** A table holding `list` as it is (ids are list positions), e.g. read back from the index cache. */
  static fromList(list: readonly Owner[]): OwnerTable {
    const t = new OwnerTable();
    t.list.length = 0;
    for (const o of list) t.list.push(o);
    t.unindexed = true;
    return t;
  }

  private index(): void {
    this.unindexed = false;
    this.byPid.clear();
    this.bySnap.clear();
    this.byFile.clear();
    this.byAgent.clear();
    for (const o of this.list) {
      switch (o.kind) {
        case 'process':
          this.byPid.set(o.pid!, o.id);
          break;
        case 'file':
          this.fileMap(o.dev!).set(o.ino!, o.id);
          break;
        case 'snapshot':
          this.bySnap.set(o.snap!, o.id);
          break;
        case 'agent':
          this.byAgent.set(o.name!, o.id);
          break;
      }
    }
  }

  get size(): number {
    return this.list.length;
  }

  get(id: number): Owner {
    return this.list[id];
  }

  kernel(): number {
    return 1;
  }

  /**
   * A process. The comm is taken from the first sighting; a later sighting with a different comm
   * (exec, or a thread name) keeps the first, since pid is the key the kernel uses.
   */
  process(pid: number, comm?: string, tgid?: number): number {
    if (this.unindexed) this.index();
    const found = this.byPid.get(pid);
    if (found !== undefined) {
      const o = this.list[found];
      if (o.comm === undefined && comm) o.comm = comm;
      if (o.tgid === undefined && tgid !== undefined) o.tgid = small(tgid);
      return found;
    }
    const id = this.list.length;
    pid = small(pid);
    if (tgid !== undefined) tgid = small(tgid);
    // Each owner made with all its fields at once (in the order they were always added: JSON output
    // keeps it): adding one later moves the object's fields out of line, 40 more bytes an owner.
    let o: Owner;
    if (comm) o = tgid !== undefined ? { id, kind: 'process', pid, comm, tgid } : { id, kind: 'process', pid, comm };
    else o = tgid !== undefined ? { id, kind: 'process', pid, tgid } : { id, kind: 'process', pid };
    this.list.push(o);
    this.byPid.set(pid, id);
    return id;
  }

  file(dev: string, ino: number): number {
    if (this.unindexed) this.index();
    const byIno = this.fileMap(dev);
    const found = byIno.get(ino);
    if (found !== undefined) return found;
    const id = this.list.length;
    ino = small(ino);
    this.list.push({ id, kind: 'file', dev, ino });
    byIno.set(ino, id);
    return id;
  }

  private fileMap(dev: string): Map<number, number> {
    let m = this.byFile.get(dev);
    if (!m) {
      m = new Map();
      this.byFile.set(dev, m);
    }
    return m;
  }

  snapshot(snap: number, pid?: number): number {
    if (this.unindexed) this.index();
    const found = this.bySnap.get(snap);
    if (found !== undefined) {
      if (pid !== undefined) {
        const o = this.list[found];
        if (o.pid === undefined) o.pid = small(pid);
      }
      return found;
    }
    const id = this.list.length;
    snap = small(snap);
    this.list.push(pid !== undefined ? { id, kind: 'snapshot', snap, pid: small(pid) } : { id, kind: 'snapshot', snap });
    this.bySnap.set(snap, id);
    return id;
  }

  agent(name: string): number {
    if (this.unindexed) this.index();
    const found = this.byAgent.get(name);
    if (found !== undefined) return found;
    const id = this.list.length;
    this.list.push({ id, kind: 'agent', name });
    this.byAgent.set(name, id);
    return id;
  }

  /** Find an existing process owner without creating one. */
  findProcess(pid: number): number | undefined {
    if (this.unindexed) this.index();
    return this.byPid.get(pid);
  }

  /** Whether process `pid` is known with a comm (so callers can skip decoding one). */
  hasComm(pid: number): boolean {
    if (this.unindexed) this.index();
    const id = this.byPid.get(pid);
    return id !== undefined && this.list[id].comm !== undefined;
  }

  /** Find an existing snapshot owner without creating one. */
  findSnapshot(snap: number): number | undefined {
    if (this.unindexed) this.index();
    return this.bySnap.get(snap);
  }
}

/** A short human label: `pid 123 (bash)`, `file 259:1/42`, `snapshot 3 of pid 10`, `kernel`. */
export function ownerLabel(o: Pick<Owner, 'kind' | 'pid' | 'comm' | 'dev' | 'ino' | 'snap' | 'name'>): string {
  switch (o.kind) {
    case 'process':
      return `pid ${o.pid}${o.comm ? ` (${o.comm})` : ''}`;
    case 'file':
      return `file ${o.dev}/${o.ino}`;
    case 'snapshot':
      return `snapshot ${o.snap}${o.pid !== undefined ? ` of pid ${o.pid}` : ''}`;
    case 'agent':
      return `agent ${o.name}`;
    default:
      return o.kind;
  }
}
