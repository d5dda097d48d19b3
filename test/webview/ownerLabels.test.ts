import { describe, expect, it } from 'vitest';
import { synthesize } from '../../src/core/synth/scenarios';
import { ownerLabel } from '../../src/core/model/owners';
import { answerViewRequest, viewInit } from '../../src/core/view/viewRequests';
import { INIT_OWNERS, type OwnersRequest } from '../../src/protocol/viewData';
import { OwnerLabels } from '../../webview/ownership/ownerLabels';
import { openText } from '../helpers';

describe('owner labels on demand', () => {
  it('knows the top owners from the init and asks the core once for the others it is given', async () => {
    let text = '';
    synthesize({ scenario: 'cow-snapshots', seed: 1, events: 20000 }, (c) => (text += c));
    const m = await openText(text, 'cow.pltrace');
    const init = viewInit(m);
    const asked: number[][] = [];
    const labels = new OwnerLabels(init, async (req: OwnersRequest) => {
      asked.push(req.ids);
      return answerViewRequest(m, req);
    });
    const table = m.builder.owners;
    const top = new Set(init.topOwners);
    expect(top.size).toBe(INIT_OWNERS);
    const rest = [...Array(table.size).keys()].filter((o) => o > 0 && !top.has(o));
    expect(rest.length).toBeGreaterThan(0);
    const first = init.topOwners[0];
    expect([labels.has(first), labels.get(first), labels.get(0)]).toEqual([true, ownerLabel(table.get(first)), 'free']);
    expect([labels.has(rest[0]), labels.get(rest[0])]).toEqual([false, `owner ${rest[0]}`]);
    await labels.want([first, rest[0], rest[1], rest[0], 0]);
    expect(asked).toEqual([[rest[0], rest[1]]]);
    expect([labels.get(rest[0]), labels.get(rest[1])]).toEqual([ownerLabel(table.get(rest[0])), ownerLabel(table.get(rest[1]))]);
    await labels.want([first, rest[1]]);
    expect(asked.length).toBe(1);
  });
});
