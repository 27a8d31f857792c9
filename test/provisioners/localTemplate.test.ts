import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { DEFAULT_LIMITS } from '../../src/provisioners/local/cgroups.js';
import { readLocalTemplate, TemplateError } from '../../src/provisioners/local/template.js';

describe('kiln.json: network and limits', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const read = async (doc: unknown) => {
    const d = await mkdtemp(path.join(os.tmpdir(), 'kiln-tpl-'));
    dirs.push(d);
    await writeFile(path.join(d, 'kiln.json'), JSON.stringify(doc));
    return readLocalTemplate(d);
  };

  it('defaults: no outbound network, the documented limits', async () => {
    const t = await read({ agents: [] });
    assert.equal(t.network, 'none');
    assert.deepEqual(t.limits, DEFAULT_LIMITS);
    assert.deepEqual(DEFAULT_LIMITS, { memoryMb: 2048, pids: 1024, cpus: 1, diskMb: 10240 });
  });

  it('takes what a template asks for', async () => {
    const t = await read({ network: 'outbound', limits: { memory_mb: 512, pids: 100, cpus: 0.5, disk_mb: 100 } });
    assert.equal(t.network, 'outbound');
    assert.deepEqual(t.limits, { memoryMb: 512, pids: 100, cpus: 0.5, diskMb: 100 });
  });

  it('names the field of every mistake', async () => {
    const cases: [unknown, RegExp][] = [
      [{ network: 'host' }, /network must be "none" or "outbound"/],
      [{ limits: { memory: 1 } }, /limits\.memory is not a known limit/],
      [{ limits: { pids: 1.5 } }, /limits\.pids must be a whole number ≥ 16/],
      [{ limits: { memory_mb: 1 } }, /limits\.memory_mb must be a whole number ≥ 64/],
      [{ limits: { cpus: 0 } }, /limits\.cpus must be a number ≥ 0\.01/],
      [{ limits: [] }, /limits must be an object/],
    ];
    for (const [doc, re] of cases) await assert.rejects(read(doc), (e: unknown) => e instanceof TemplateError && re.test(e.message));
  });
});
