import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|tsx|mts)$/.test(n) && !n.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(join(ROOT, dir));
  return out;
}

/** Every module specifier a file imports, re-exports, requires or imports dynamically. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[^\w.])import\s*['"]([^'"]+)['"]|(?:require|import)\s*\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

const NODE = new Set([...builtinModules, ...builtinModules.map((b) => `node:${b}`)]);

function offenders(dir: string, bad: (spec: string) => boolean): string[] {
  return sources(dir).flatMap((f) => imports(f).filter(bad).map((s) => `${relative(ROOT, f)} imports ${s}`));
}

describe('the three zones', () => {
  it('finds imports in the forms the code uses', () => {
    expect(imports(join(ROOT, 'src/extension/extension.ts'))).toContain('vscode');
    expect(imports(join(ROOT, 'src/extension/worker.ts'))).toContain('node:worker_threads');
  });

  it('keeps src/core free of vscode and Node-only modules', () => {
    expect(sources('src/core').length).toBeGreaterThan(10);
    expect(offenders('src/core', (s) => s === 'vscode' || NODE.has(s))).toEqual([]);
  });

  it('keeps vscode inside src/extension, and out of its testable logic', () => {
    for (const dir of ['src/cli', 'src/node', 'src/protocol', 'src/extension/logic']) expect(offenders(dir, (s) => s === 'vscode')).toEqual([]);
  });

  it('keeps the webviews free of vscode and Node modules', () => {
    expect(offenders('webview', (s) => s === 'vscode' || NODE.has(s))).toEqual([]);
  });
});
