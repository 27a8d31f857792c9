// External daemons (`kiln provisionerd start` as a real process) against one in-process server: SIGTERM handling,
// user-scoped daemons, and the error rows of the provisioner key, daemon, job and replica endpoints.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { KilnClient } from '../../src/sdk/client.js';
import { NetworkProvisionerdClient } from '../../src/sdk/provisionerd.js';
import type { AcquiredJob } from '../../src/sdk/types/provisionerd.js';
import { createTar } from '../../src/sdk/tar.js';
import { startCliProc, startDaemon, type Proc } from '../harness/cluster.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { waitFor } from '../harness/wait.js';

import { assertEnvelope, expectSdkError, NOT_FOUND, request } from './envelope.js';

const PSK = 'external-daemon-test-psk';

describe('external provisioner daemons', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let member: TestUser;
  const procs: Proc[] = [];
  const daemon = (args: string[], env?: NodeJS.ProcessEnv) => {
    const p = startDaemon(args, { env });
    procs.push(p);
    return p;
  };
  const connected = (p: Proc) =>
    Promise.race([
      waitFor(() => /slot\(s\) connected to/.test(p.output()), 'the daemon to connect', 30_000),
      p.exit.then(({ code }) => Promise.reject(new Error(`daemon exited (${code}):\n${p.output()}`))),
    ]);
  async function version(client: KilnClient, echo: unknown, tags?: Record<string, string>) {
    const { hash } = await client.upload(createTar({ 'echo.json': JSON.stringify(echo) }));
    return client.createTemplateVersion(owner.organizationId, { storage_method: 'file', file_id: hash, provisioner: 'echo', tags });
  }

  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0, overrides: { provisionerDaemonPsk: PSK } });
    owner = await srv.createFirstUser();
    member = await srv.createUser(owner.client, ['template-admin']);
  });
  after(async () => {
    for (const p of procs) await p.stop().catch(() => {});
    await srv.close();
  });

  it('SIGTERM: the daemon takes no new job and fails the running one with a clear message after --shutdown-timeout', async () => {
    const d = daemon(['--url', srv.url, '--psk', PSK, '--name', 'sigterm', '--tag', 'pool=sigterm', '--shutdown-timeout', '1s']);
    await connected(d);
    const v = await version(owner.client, { import: { hang: true } }, { pool: 'sigterm' });
    await waitFor(async () => (await owner.client.templateVersion(v.id)).job.status === 'running', 'the job to run');
    const queued = await version(owner.client, {}, { pool: 'sigterm' });
    d.child.kill('SIGTERM');
    const exit = await d.exit;
    assert.equal(exit.code, 0, d.output());
    const job = (await owner.client.templateVersion(v.id)).job;
    assert.equal(job.status, 'failed');
    assert.equal(job.error, 'The provisioner daemon shut down while this job was running.');
    assert.equal((await owner.client.templateVersion(queued.id)).job.status, 'pending', 'no new job was taken');
    assert.match(d.output(), /shutdown timeout reached/);
  });

  it('a user runs a daemon for their own jobs only (scope=user, their own token)', async () => {
    const mine = daemon(['--url', srv.url, '--name', 'users-own', '--tag', 'scope=user'], { KILN_SESSION_TOKEN: member.client.token as string, HOME: srv.dataDir });
    await connected(mine);
    const [listed] = await owner.client.provisionerDaemons(owner.organizationId, { tags: JSON.stringify({ scope: 'user' }) });
    assert.equal(listed?.name, 'users-own');
    assert.equal(listed?.tags.owner, member.userId);
    assert.equal(listed?.key_name, 'user-auth');
    const theirs = await version(member.client, {}, { scope: 'user' });
    const ownersUserScoped = await version(owner.client, {}, { scope: 'user' });
    const orgWide = await version(owner.client, {});
    await waitFor(async () => (await member.client.templateVersion(theirs.id)).job.status === 'succeeded', 'the member\'s own job');
    assert.equal((await owner.client.templateVersion(ownersUserScoped.id)).job.status, 'pending');
    assert.equal((await owner.client.templateVersion(orgWide.id)).job.status, 'pending');
    await mine.stop();
    // Nothing left in the queue for the daemons of later tests.
    await owner.client.cancelTemplateVersion(ownersUserScoped.id);
    await owner.client.cancelTemplateVersion(orgWide.id);
  });

  it('a member\'s token cannot serve the whole organization; bad credentials are refused', async () => {
    const plain = await srv.createUser(owner.client);
    const orgDaemon = daemon(['--url', srv.url, '--name', 'not-allowed'], { KILN_SESSION_TOKEN: plain.client.token as string, HOME: srv.dataDir });
    assert.equal((await orgDaemon.exit).code, 1);
    const badPsk = daemon(['--url', srv.url, '--psk', 'wrong', '--name', 'bad-psk']);
    assert.equal((await badPsk.exit).code, 1);
    assert.match(badPsk.output(), /pre-shared key is invalid/);
    const res = await request(srv.url, 'GET', `/api/v2/organizations/${owner.organizationId}/provisionerdaemons/serve`, { headers: { 'Coder-Provisioner-Daemon-PSK': PSK } });
    assertEnvelope(res, 400, 'Failed to accept websocket.');
  });

  /**
   * A network daemon client in this test process (with the PSK, serving echo jobs tagged `pool`) that acquires the
   * import of a fresh template version, hands both to `fn`, and closes.
   */
  async function withAcquiredImport(
    name: string,
    pool: string,
    fn: (client: NetworkProvisionerdClient, v: Awaited<ReturnType<typeof version>>, job: AcquiredJob) => Promise<void>,
  ): Promise<void> {
    const client = new NetworkProvisionerdClient({
      urls: [srv.url],
      organization: 'default',
      auth: { psk: PSK },
      name,
      instanceId: `${name}-1`,
      version: 'test',
      provisioners: ['echo'],
      tags: { pool },
    });
    try {
      await client.connect();
      const v = await version(owner.client, {}, { pool });
      const job = await client.acquireJob(new AbortController().signal);
      assert.ok(job);
      assert.equal(job.job_id, v.job.id);
      await fn(client, v, job);
    } finally {
      client.close();
    }
  }

  it('log lines re-sent after a lost reply are stored once (the network client numbers them)', async () => {
    await withAcquiredImport('resender', 'resend', async (client, v, job) => {
      assert.ok(job.template_source_archive.byteLength > 0, 'the archive came through the protocol');
      const lines = ['one', 'two', 'three'].map((output) => ({ created_at: Date.now(), source: 'provisioner' as const, level: 'info' as const, stage: 'Parse', output }));
      await client.updateJob({ job_id: job.job_id, logs: lines });
      // The same lines again (as the updater re-queues a batch whose reply was lost), plus a new one.
      const more = { created_at: Date.now(), source: 'provisioner' as const, level: 'info' as const, stage: 'Parse', output: 'four' };
      await client.updateJob({ job_id: job.job_id, logs: [...lines, more] });
      await client.completeJob({ job_id: job.job_id, template_import: { start_resources: [] } });
      const logs = await owner.client.templateVersionLogs(v.id);
      assert.deepEqual(logs.map((l) => l.output), ['one', 'two', 'three', 'four']);
      assert.equal((await owner.client.templateVersion(v.id)).job.status, 'succeeded');
    });
  });

  it('an update with a malformed line or job id is refused with the field named, stores nothing, and the job goes on', async () => {
    await withAcquiredImport('malformed', 'malformed', async (client, v, job) => {
      const good = { created_at: Date.now(), source: 'provisioner' as const, level: 'info' as const, stage: 'Parse', output: 'kept' };
      const hostile: [Record<string, unknown>, RegExp][] = [
        [{ ...good, output: 42 }, /logs\[0\]\.output must be a string/],
        [{ ...good, created_at: 'yesterday' }, /logs\[0\]\.created_at must be unix milliseconds/],
        [{ ...good, created_at: null }, /logs\[0\]\.created_at must be unix milliseconds/],
        [{ ...good, level: 'loud' }, /logs\[0\]\.level must be one of/],
        [{ ...good, source: 'agent' }, /logs\[0\]\.source must be one of/],
        [{ ...good, stage: ['x'] }, /logs\[0\]\.stage must be a string/],
      ];
      for (const [line, message] of hostile) {
        await assert.rejects(client.updateJob({ job_id: job.job_id, logs: [line as never] }), message);
      }
      await assert.rejects(client.updateJob({ job_id: 'not-a-job', logs: [] }), /job_id must be a UUID/);
      await client.updateJob({ job_id: job.job_id, logs: [good] });
      await client.completeJob({ job_id: job.job_id, template_import: { start_resources: [] } });
      assert.deepEqual((await owner.client.templateVersionLogs(v.id)).map((l) => l.output), ['kept']);
      assert.equal((await owner.client.templateVersion(v.id)).job.status, 'succeeded');
    });
  });

  it('a second process under a connected daemon\'s name is refused, and so is a malformed name', async () => {
    const first = daemon(['--url', srv.url, '--psk', PSK, '--name', 'only-one', '--tag', 'pool=names']);
    await connected(first);
    const second = daemon(['--url', srv.url, '--psk', PSK, '--name', 'only-one', '--tag', 'pool=names']);
    assert.equal((await second.exit).code, 1);
    assert.match(second.output(), /already connected; give this one another --name/);
    const bad = daemon(['--url', srv.url, '--psk', PSK, '--name', 'not a name!']);
    assert.equal((await bad.exit).code, 1);
    assert.match(bad.output(), /name must be 1-64 letters/);
    // Once the first is gone, a new process may take its name at once.
    await first.stop();
    const successor = daemon(['--url', srv.url, '--psk', PSK, '--name', 'only-one', '--tag', 'pool=names']);
    await connected(successor);
    await successor.stop();
  });

  it('provisioner keys: the secret once, 409 on a taken name, 400 on a reserved one, 403 for members, 404 on delete of an unknown key', async () => {
    const org = owner.organizationId;
    const { key } = await owner.client.createProvisionerKey(org, { name: 'k1', tags: { env: 'prod' } });
    assert.ok(key.length >= 40);
    const list = await owner.client.provisionerKeys(org);
    assert.deepEqual(list.map((k) => [k.name, k.tags, k.organization]), [['k1', { env: 'prod' }, org]]);
    assert.ok(!JSON.stringify(list).includes(key), 'the secret is never listed');
    await expectSdkError(owner.client.createProvisionerKey(org, { name: 'K1' }), 409, /already exists/);
    await expectSdkError(owner.client.createProvisionerKey(org, { name: 'psk' }), 400, 'Validation failed.');
    await expectSdkError(owner.client.createProvisionerKey(org, { name: 'u', tags: { scope: 'user' } }), 400, 'Validation failed.');
    const plain = await srv.createUser(owner.client);
    await expectSdkError(plain.client.provisionerKeys(org), 403, 'Forbidden.');
    await expectSdkError(owner.client.deleteProvisionerKey(org, 'nope'), 404, /not found/);
    await owner.client.deleteProvisionerKey(org, 'k1');
    assert.deepEqual(await owner.client.provisionerKeys(org), []);
  });

  it('kiln provisioner keys create|list|delete, kiln provisioner list, kiln provisioner jobs list', async () => {
    const env = { KILN_URL: srv.url, KILN_SESSION_TOKEN: owner.client.token as string, HOME: srv.dataDir };
    const cli = async (...args: string[]) => {
      const p = startCliProc(args, env);
      const { code } = await p.exit;
      return { code, out: p.output() };
    };
    const created = await cli('provisioner', 'keys', 'create', 'cli-key', '--tag', 'env=cli');
    assert.equal(created.code, 0, created.out);
    const secret = created.out.trim().split('\n').pop() as string;
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    const keyed = daemon(['--url', srv.url, '--key', secret, '--name', 'cli-keyed']);
    await connected(keyed);
    const keysOut = await cli('provisioner', 'keys', 'list');
    assert.match(keysOut.out, /cli-key\s+env=cli/);
    assert.ok(!keysOut.out.includes(secret));
    const daemons = await cli('provisioner', 'list', '--tag', 'env=cli');
    assert.match(daemons.out, /cli-keyed\s+idle\s+cli-key\s+echo/);
    const json = await cli('provisioner', 'jobs', 'list', '-o', 'json', '--status', 'succeeded', '--limit', '2');
    const jobs = JSON.parse(json.out) as { status: string }[];
    assert.ok(jobs.length > 0 && jobs.length <= 2 && jobs.every((j) => j.status === 'succeeded'), json.out);
    assert.equal((await cli('provisioner', 'keys', 'delete', 'cli-key')).code, 0);
    assert.equal((await keyed.exit).code, 1);
  });

  it('daemon and job listings validate their filters; a member sees only their own jobs; replicas are for owners', async () => {
    const org = owner.organizationId;
    await expectSdkError(owner.client.provisionerDaemons(org, { status: 'sleeping' }), 400, 'Invalid query parameters.');
    await expectSdkError(owner.client.provisionerJobs(org, { tags: 'env=prod' }), 400, 'Invalid query parameters.');
    await expectSdkError(owner.client.provisionerJobs(org, { limit: 0 }), 400, 'Invalid query parameters.');
    const plain = await srv.createUser(owner.client);
    const ownerJobs = await owner.client.provisionerJobs(org, { limit: 1000 });
    assert.ok(ownerJobs.length > 0);
    assert.deepEqual(await plain.client.provisionerJobs(org), []);
    const first = ownerJobs[0];
    assert.ok(first);
    assert.equal((await owner.client.provisionerJob(org, first.id)).id, first.id);
    await expectSdkError(plain.client.provisionerJob(org, first.id), 404, NOT_FOUND);
    await expectSdkError(owner.client.provisionerJob(org, '00000000-0000-0000-0000-00000000000f'), 404, NOT_FOUND);
    const replicas = await owner.client.replicas();
    assert.equal(replicas.length, 1);
    assert.equal(replicas[0]?.error, '');
    await expectSdkError(plain.client.replicas(), 404, NOT_FOUND);
  });
});
