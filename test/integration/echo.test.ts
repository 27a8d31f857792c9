import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { EchoProvisioner } from '../../src/provisioners/echo/echo.js';
import type { Phase, ProvisionRequest, ProvisionResult } from '../../src/provisionersdk/provisioner.js';

type Line = { level: string; output: string; stage?: string };

describe('the echo provisioner', () => {
  let root: string;
  let n = 0;
  const echo = new EchoProvisioner();

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'kiln-echo-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  /** Runs one phase of `script` (an echo.json document, or raw text, or undefined for no file). */
  async function run(
    doc: unknown,
    phase: Phase = 'start',
    opts: { state?: string; parameters?: ProvisionRequest['parameters']; signal?: AbortSignal; onLog?: (l: Line) => void } = {},
  ): Promise<{ result: ProvisionResult; lines: Line[] }> {
    const dir = path.join(root, `d${++n}`);
    await mkdir(dir, { recursive: true });
    if (doc !== undefined) await writeFile(path.join(dir, 'echo.json'), typeof doc === 'string' ? doc : JSON.stringify(doc));
    const lines: Line[] = [];
    const result = await echo.provision(
      {
        phase,
        directory: dir,
        state: new TextEncoder().encode(opts.state ?? ''),
        parameters: opts.parameters ?? [],
        metadata: { access_url: 'http://x', template_name: 't', template_version: 'v' },
      },
      {
        signal: opts.signal ?? new AbortController().signal,
        log: (level, output, stage) => {
          const l = { level, output, ...(stage !== undefined ? { stage } : {}) };
          lines.push(l);
          opts.onLog?.(l);
        },
      },
    );
    return { result, lines };
  }

  it('succeeds at once with nothing when echo.json or the phase is missing', async () => {
    for (const [doc, phase] of [
      [undefined, 'start'],
      [{ start: { logs: [{ output: 'x' }] } }, 'stop'],
      [{ import: null }, 'import'],
    ] as [unknown, Phase][]) {
      const { result, lines } = await run(doc, phase);
      assert.deepEqual(result, { resources: [] });
      assert.deepEqual(lines, []);
    }
  });

  it('replays logs with levels and stages, then reports resources and state', async () => {
    const resources = [{ name: 'dev', type: 'docker_container', agents: [{ name: 'main' }] }];
    // delay_ms waits before each line: checked by what ran in between (a timer set when a line was written has fired
    // before the next line is), not by measuring how long it took.
    let timerFired = true;
    const firedBeforeEachLine: boolean[] = [];
    const { result, lines } = await run(
      {
        start: {
          delay_ms: 20,
          logs: [{ output: 'one' }, { level: 'warn', output: 'two', stage: 'Custom stage' }, { level: 'error', output: '' }],
          resources,
          state: 'héllo state',
        },
      },
      'start',
      {
        onLog: () => {
          firedBeforeEachLine.push(timerFired);
          timerFired = false;
          setTimeout(() => (timerFired = true), 0);
        },
      },
    );
    assert.deepEqual(firedBeforeEachLine, [true, true, true]);
    assert.deepEqual(lines, [
      { level: 'info', output: 'one' },
      { level: 'warn', output: 'two', stage: 'Custom stage' },
      { level: 'error', output: '' },
    ]);
    assert.deepEqual(result.resources, resources);
    assert.equal(new TextDecoder().decode(result.state), 'héllo state');
    assert.equal(result.error, undefined);
  });

  it('fails with the script error after the logs, still reporting its state', async () => {
    const { result, lines } = await run({ stop: { logs: [{ output: 'about to fail' }], error: 'failed!', state: 's' } }, 'stop');
    assert.deepEqual(lines.map((l) => l.output), ['about to fail']);
    assert.equal(result.error, 'failed!');
    assert.equal(new TextDecoder().decode(result.state), 's');
    assert.deepEqual(result.resources, []);
  });

  it('echoes the state it started with and the parameters it received, before the script lines', async () => {
    const { lines } = await run(
      { delete: { echo_state: true, echo_parameters: true, logs: [{ output: 'bye' }] } },
      'delete',
      {
        state: 'previous',
        parameters: [
          { name: 'region', value: 'eu', destination_scheme: 'environment_variable' },
          { name: 'size', value: 'xl', destination_scheme: 'provisioner_variable' },
        ],
      },
    );
    assert.deepEqual(lines.map((l) => l.output), ['state: previous', 'param region=eu', 'param size=xl', 'bye']);
  });

  it('hangs after its logs until canceled, then fails with "canceled"', async () => {
    const ac = new AbortController();
    const { result, lines } = await run({ start: { logs: [{ output: 'working' }], hang: true } }, 'start', {
      signal: ac.signal,
      onLog: () => setImmediate(() => ac.abort()),
    });
    assert.deepEqual(lines.map((l) => l.output), ['working']);
    assert.equal(result.error, 'canceled');
  });

  it('stops between delayed lines when canceled', async () => {
    const ac = new AbortController();
    const { result, lines } = await run({ start: { delay_ms: 30, logs: Array.from({ length: 50 }, (_, i) => ({ output: `l${i}` })) } }, 'start', {
      signal: ac.signal,
      onLog: (l) => l.output === 'l2' && ac.abort(),
    });
    assert.deepEqual(lines.map((l) => l.output), ['l0', 'l1', 'l2']);
    assert.equal(result.error, 'canceled');
  });

  it('reads a long script a chunk at a time: every line in order, a broken line fails the job where it is', async () => {
    const logs = Array.from({ length: 1_234 }, (_, i) => (i % 3 === 0 ? { output: `l${i} "quoted" [x] {y}`, stage: 's' } : { level: 'debug', output: `l${i}` }));
    const doc = { stop: { logs: [{ output: 'not this phase' }] }, start: { logs, state: 'after' }, destroy: { logs: [1, 2] } };
    const pretty = JSON.stringify(doc, null, 2);
    for (const text of [JSON.stringify(doc), pretty]) {
      const { result, lines } = await run(text, 'start');
      assert.equal(result.error, undefined);
      assert.equal(new TextDecoder().decode(result.state), 'after');
      assert.deepEqual(lines.map((l) => l.output), logs.map((l) => l.output));
      assert.deepEqual(lines.map((l) => l.level), logs.map((l) => l.level ?? 'info'));
    }
    // The lines before a broken one were written; the job fails with the same message as a check up front would give.
    const broken = { start: { logs: [...logs.slice(0, 700), { level: 'loud', output: 'x' }, ...logs.slice(700)] } };
    const { result, lines } = await run(broken, 'start');
    assert.match(result.error ?? '', /^echo\.json: start\.logs\[700\]\.level must be one of/);
    assert.equal(lines.length, 700);
  });

  it('reports a broken script as the job error', async () => {
    assert.match((await run('{not json')).result.error ?? '', /^echo\.json is not valid JSON/);
    assert.match((await run({ start: { delay_ms: -1 } })).result.error ?? '', /start\.delay_ms must be an integer/);
    assert.match((await run({ start: { logs: [{ level: 'loud', output: 'x' }] } })).result.error ?? '', /start\.logs\[0\]\.level/);
    assert.match((await run({ start: { resources: [{ name: 'x' }] } })).result.error ?? '', /resources\[0\] needs a string "name" and "type"/);
  });
});
