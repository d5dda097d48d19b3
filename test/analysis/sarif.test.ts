import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { ANOMALY_KINDS } from '../../src/core/analysis/anomalies';
import { synthesize } from '../../src/core/synth/scenarios';
import { FIXTURES, native } from '../helpers';

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
  relatedLocations?: { physicalLocation: { region: { startLine: number } } }[];
  properties?: { pfn: string };
}

interface SarifRun {
  tool: { driver: { rules: { id: string; help: { text: string } }[] } };
  results: SarifResult[];
}

let dir: string;

/** The official schema's `language` pattern has a stray `]` that only non-unicode regexps accept. */
function compileSchema(schema: object): ReturnType<Ajv['compile']> {
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

const at = (name: string): string => join(dir, name);

/** Run the CLI with captured output. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pageledger-sarif-'));
  const parts: string[] = [];
  const truth = synthesize({ scenario: 'numactlx-remap', seed: 3, events: 6000 }, (c) => parts.push(c));
  writeFileSync(at('synth.pltrace'), parts.join(''));
  writeFileSync(at('synth.truth.json'), JSON.stringify(truth));
  // Only warnings: an order mismatch and a leak.
  writeFileSync(at('warnings.pltrace'), native('1 alloc pfn=0x10 order=1 owner=kernel', '2 free pfn=0x10 order=0', '3 alloc pfn=0x20 pid=4', '4 exit pid=4'));
  writeFileSync(at('clean.pltrace'), native('1 alloc pfn=0x10 pid=4', '2 free pfn=0x10'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('analyze --sarif', () => {
  it('writes SARIF that validates against the SARIF 2.1.0 schema, one result per anomaly at its line', async () => {
    const r = await cli('analyze', at('synth.pltrace'), '--sarif', at('out.sarif'), '--quiet');
    expect(r.code).toBe(0);
    const log = JSON.parse(readFileSync(at('out.sarif'), 'utf8')) as { version: string; runs: SarifRun[] };
    const schema = JSON.parse(readFileSync(join(FIXTURES, 'sarif', 'sarif-2.1.0-rtm.5.json'), 'utf8')) as object;
    const validate = compileSchema(schema);
    expect(validate(log) ? [] : validate.errors).toEqual([]);

    const truth = JSON.parse(readFileSync(at('synth.truth.json'), 'utf8')) as { anomalies: { kind: string; line: number; pfn: string }[] };
    const run = log.runs[0];
    expect(run.tool.driver.rules.map((x) => x.id)).toEqual([...ANOMALY_KINDS]);
    const got = run.results.map((x) => `${x.ruleId} ${x.locations[0].physicalLocation.region.startLine} ${x.properties?.pfn}`);
    expect(got.sort()).toEqual(truth.anomalies.map((a) => `${a.kind} ${a.line} ${a.pfn}`).sort());
    for (const x of run.results) {
      expect(run.tool.driver.rules[x.ruleIndex].id).toBe(x.ruleId);
      expect(x.locations[0].physicalLocation.artifactLocation.uri).toBe('file://' + at('synth.pltrace'));
    }
    const doubleFree = run.results.find((x) => x.ruleId === 'double-free')!;
    expect(doubleFree.level).toBe('error');
    expect(doubleFree.relatedLocations![0].physicalLocation.region.startLine).toBe(doubleFree.locations[0].physicalLocation.region.startLine - 1);
  });

  it('validates for a trace with a parse error (no pfn) and for one with no anomaly', async () => {
    writeFileSync(at('bad.pltrace'), native('1 alloc pfn=zz'));
    const schema = JSON.parse(readFileSync(join(FIXTURES, 'sarif', 'sarif-2.1.0-rtm.5.json'), 'utf8')) as object;
    const validate = compileSchema(schema);
    // The validator does reject what the schema forbids: a run without its tool, an unknown level.
    expect(validate({ version: '2.1.0', runs: [{ results: [] }] })).toBe(false);
    expect(validate({ version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [{ message: { text: 'm' }, level: 'fatal' }] }] })).toBe(false);
    for (const f of ['bad.pltrace', 'clean.pltrace']) {
      await cli('analyze', at(f), '--sarif', at(f + '.sarif'), '--quiet');
      const log = JSON.parse(readFileSync(at(f + '.sarif'), 'utf8')) as { runs: SarifRun[] };
      expect(validate(log) ? [] : validate.errors).toEqual([]);
      expect(log.runs[0].results.map((x) => [x.ruleId, x.locations[0].physicalLocation.region.startLine])).toEqual(f === 'bad.pltrace' ? [['parse-error', 2]] : []);
    }
  });
});

describe('analyze --fail-on-anomaly and --config', () => {
  it('exits 1 on anomalies at or above the threshold, 0 otherwise', async () => {
    expect((await cli('analyze', at('synth.pltrace'), '--fail-on-anomaly', '--quiet')).code).toBe(1);
    expect((await cli('analyze', at('synth.pltrace'), '--fail-on-anomaly', 'error', '--quiet')).code).toBe(1);
    expect((await cli('analyze', at('warnings.pltrace'), '--fail-on-anomaly', 'error', '--quiet')).code).toBe(0);
    expect((await cli('analyze', at('warnings.pltrace'), '--fail-on-anomaly', 'warning', '--quiet')).code).toBe(1);
    expect((await cli('analyze', at('warnings.pltrace'), '--fail-on-anomaly=warning', '--quiet')).code).toBe(1);
    expect((await cli('analyze', at('warnings.pltrace'), '--quiet')).code).toBe(0);
    expect((await cli('analyze', at('clean.pltrace'), '--fail-on-anomaly', '--quiet')).code).toBe(0);
    const bad = await cli('analyze', at('clean.pltrace'), '--fail-on-anomaly=fatal');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--fail-on-anomaly takes error, warning or info');
  });

  it('switches rules off and re-grades them from a config file', async () => {
    writeFileSync(at('regrade.json'), JSON.stringify({ rules: { severity: { 'order-mismatch': 'error' }, disabled: ['leak'] } }));
    const r = await cli('analyze', at('warnings.pltrace'), '--config', at('regrade.json'), '--fail-on-anomaly', 'error', '--json', '--quiet');
    expect(r.code).toBe(1);
    const s = JSON.parse(r.out) as { anomalies: { kind: string; severity: string; line: number }[] };
    expect(s.anomalies.map((a) => [a.kind, a.severity, a.line])).toEqual([['order-mismatch', 'error', 3]]);

    writeFileSync(at('off.json'), JSON.stringify({ rules: { disabled: ['leak', 'order-mismatch'] } }));
    const off = await cli('analyze', at('warnings.pltrace'), '--config', at('off.json'), '--fail-on-anomaly', 'info', '--quiet');
    expect(off.code).toBe(0);
    expect(off.out).toContain('anomalies: 0');
  });

  it('rejects a config that names an unknown rule or severity, with exit 2', async () => {
    writeFileSync(at('typo.json'), JSON.stringify({ rules: { disabled: ['double-fre'] } }));
    const r = await cli('analyze', at('warnings.pltrace'), '--config', at('typo.json'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown rule "double-fre"');
    writeFileSync(at('sev.json'), JSON.stringify({ rules: { severity: { leak: 'fatal' } } }));
    const s = await cli('analyze', at('warnings.pltrace'), '--config', at('sev.json'));
    expect(s.code).toBe(2);
    expect(s.err).toContain('severity of leak must be error, warning or info');
  });
});
