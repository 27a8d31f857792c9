// Rich parameters from the CLI: --parameter, --rich-parameter-file, prompts at a terminal, and `kiln show`.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createEchoTemplate } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

import { runCli, spawnCliInTerminal, startCliServer, type CliServer } from './cliHarness.js';
import { expectGolden, normalize, transcript } from './golden.js';

const ECHO = {
  start: { echo_parameters: true },
  parameters: [
    { name: 'region', display_name: 'Region', description: 'Where the workspace runs', options: [{ name: 'Europe', value: 'eu' }, { name: 'United States', value: 'us' }] },
    { name: 'cpus', type: 'number', mutable: true, default_value: '4', validation_min: 1, validation_max: 16 },
    { name: 'gpu', type: 'bool', mutable: true, default_value: 'false' },
    { name: 'tags', type: 'list(string)', mutable: true, default_value: '[]' },
  ],
};

describe('kiln rich parameters', () => {
  let s: CliServer;
  const kiln = (argv: string[]) => runCli(argv, { env: s.ownerEnv });
  before(async () => {
    s = await startCliServer();
    await createEchoTemplate(s.server.client.withToken(s.ownerToken), s.orgId, ECHO, { name: 'sized' });
  });
  after(() => s.close());

  it('--parameter sets declared parameters; kiln show lists the values in use', async () => {
    const argv = ['create', 'p1', '-t', 'sized', '--parameter', 'region=eu', '--parameter', 'cpus=8'];
    const r = await kiln(argv);
    assert.equal(r.code, 0, r.stderr);
    await expectGolden('parameters-create', normalize(transcript(argv, r)));
    const shown = await kiln(['show', 'p1']);
    const ws = await s.server.client.withToken(s.ownerToken).workspaceByOwnerAndName('me', 'p1');
    await expectGolden('parameters-show', normalize(transcript(['show', 'p1'], shown), [[ws.latest_build.template_version_name, '<VERSION>']]));
  });

  it('without a terminal a missing required value, or a refused one, is a usage error (exit 2)', async () => {
    for (const [name, argv] of [
      ['parameters-missing', ['create', 'p2', '-t', 'sized']],
      ['parameters-refused', ['create', 'p2', '-t', 'sized', '--parameter', 'region=eu', '--parameter', 'cpus=64']],
    ] as [string, string[]][]) {
      const r = await kiln(argv);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      await expectGolden(name, normalize(transcript(argv, r)));
    }
  });

  it('--rich-parameter-file reads YAML (scalars and lists) and JSON; start changes a mutable value', async () => {
    const yaml = path.join(s.tmp, 'params.yaml');
    await writeFile(yaml, '# sizes\nregion: us\ncpus: 2\ngpu: true\ntags:\n  - a\n  - "b c"\n');
    const r = await kiln(['create', 'p3', '-t', 'sized', '--rich-parameter-file', yaml]);
    assert.equal(r.code, 0, r.stderr);
    for (const line of ['param region=us', 'param cpus=2', 'param gpu=true', 'param tags=["a","b c"]']) assert.ok(r.stdout.includes(line), `${line} in\n${r.stdout}`);
    const json = path.join(s.tmp, 'params.json');
    await writeFile(json, JSON.stringify({ cpus: 12 }));
    const stop = await kiln(['stop', 'p3']);
    assert.equal(stop.code, 0, stop.stderr);
    const start = await kiln(['start', 'p3', '--rich-parameter-file', json]);
    assert.equal(start.code, 0, start.stderr);
    assert.ok(start.stdout.includes('param cpus=12') && start.stdout.includes('param region=us'), start.stdout);
  });

  it('at a terminal: asks for a required parameter with its options as a list, and asks again after a refused answer', async () => {
    const run = spawnCliInTerminal(['create', 'p4', '-t', 'sized'], { ...s.ownerEnv, NO_COLOR: '1' });
    await waitFor(() => run.output.text.includes('region (number or value):'), 'the question', 15_000);
    assert.match(run.output.text, /Region — Where the workspace runs/);
    assert.match(run.output.text, /1\. Europe \(eu\)\r?\n\s+2\. United States \(us\)/);
    run.child.stdin.write('mars\r');
    await waitFor(() => run.output.text.includes('parameter value must match one of options: [eu us]'), 'the refusal');
    run.child.stdin.write('2\r');
    assert.equal(await run.exit, 0, run.output.text);
    assert.match(run.output.text, /param region=us/);
  });
});
