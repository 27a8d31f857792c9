import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import type { KilnClient } from '../../src/sdk/client.js';
import { createTar } from '../../src/sdk/tar.js';
import type { ProvisionerJobLog, ProvisionerJobStatus } from '../../src/sdk/types/provisionerJobs.js';
import type { CreateTemplateVersionRequest, TemplateVersion } from '../../src/sdk/types/templates.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { waitFor } from '../harness/wait.js';

import { assertEnvelope, expectSdkError, request } from './envelope.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const NOT_FOUND = 'Resource not found or you do not have access to this resource';

async function upload(client: KilnClient, echo: unknown): Promise<string> {
  return (await client.upload(createTar({ 'echo.json': JSON.stringify(echo) }))).hash;
}

async function createVersion(client: KilnClient, org: string, echo: unknown, extra: Partial<CreateTemplateVersionRequest> = {}): Promise<TemplateVersion> {
  return client.createTemplateVersion(org, { storage_method: 'file', file_id: await upload(client, echo), provisioner: 'echo', ...extra });
}

async function waitForImport(client: KilnClient, id: string, statuses: ProvisionerJobStatus[] = ['succeeded', 'failed', 'canceled']): Promise<TemplateVersion> {
  return waitFor(async () => {
    const v = await client.templateVersion(id);
    return statuses.includes(v.job.status) ? v : undefined;
  }, `import of ${id} to reach ${statuses.join('/')}`);
}

async function collect(iter: AsyncIterable<ProvisionerJobLog>): Promise<ProvisionerJobLog[]> {
  const out: ProvisionerJobLog[] = [];
  for await (const l of iter) out.push(l);
  return out;
}

describe('template versions without a daemon: creation, reads, errors, cancel of a pending import', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let member: TestUser;
  let admin: TestUser;
  let org: string;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 0 });
    owner = await srv.createFirstUser();
    org = owner.organizationId;
    member = await srv.createUser(owner.client);
    admin = await srv.createUser(owner.client, ['template-admin']);
  });
  after(async () => srv.close());

  it('POST → 201 with a pending import job in the queue, a generated name, the zero template_id and the creator', async () => {
    const fileId = await upload(owner.client, {});
    const v = await owner.client.createTemplateVersion(org, { storage_method: 'file', file_id: fileId, provisioner: 'echo' });
    assert.match(v.name, /^[a-z]+_[a-z]+_[a-z0-9]{4}$/);
    assert.equal(v.template_id, ZERO_UUID, 'Coder writes the zero UUID for a version without a template');
    assert.equal(v.organization_id, org);
    assert.equal(v.readme, '');
    assert.equal(v.created_by.id, owner.userId);
    assert.equal(v.created_by.username, owner.username);
    assert.equal(v.job.status, 'pending');
    assert.equal(v.job.file_id, fileId);
    assert.deepEqual(v.job.tags, { scope: 'organization' });
    assert.ok((v.job.queue_position ?? 0) >= 1 && (v.job.queue_size ?? 0) >= (v.job.queue_position ?? 0), JSON.stringify(v.job));
    assert.ok(!('started_at' in v.job) && !('completed_at' in v.job), 'null job times are omitted');
    const got = await owner.client.templateVersion(v.id);
    assert.deepEqual({ ...got, job: { ...got.job, queue_position: 0, queue_size: 0 } }, { ...v, job: { ...v.job, queue_position: 0, queue_size: 0 } });

    // The import job points back at its version, and the daemon is told which provisioner and file to use.
    const row = await srv.server.api.ctx.pool.query<{ type: string; input: unknown; provisioner: string }>('SELECT type, input, provisioner FROM provisioner_jobs WHERE id = $1', [v.job.id]);
    assert.deepEqual(row.rows[0], { type: 'template_version_import', input: { template_version_id: v.id }, provisioner: 'echo' });
  });

  it('a name is kept, unique within a template (409); tags are mutated (user scope gets the owner); Go clients may send null tags and the zero template_id', async () => {
    const v = await createVersion(admin.client, org, {}, { name: 'v1.0-beta_2', tags: { scope: 'user', owner: 'someone-else', region: 'eu' } });
    assert.equal(v.name, 'v1.0-beta_2');
    assert.deepEqual(v.job.tags, { scope: 'user', owner: admin.userId, region: 'eu' });
    assert.equal(v.created_by.id, admin.userId);
    const again = await createVersion(admin.client, org, {}, { name: 'v1.0-beta_2', tags: null, template_id: ZERO_UUID });
    assert.equal(again.name, 'v1.0-beta_2', 'unbound versions may share a name');
    assert.deepEqual(again.job.tags, { scope: 'organization' });

    // Bind one to a template, then the name is taken within that template.
    const t = await owner.client.createTemplate(org, { name: 'tv-names', template_version_id: v.id });
    const named = await createVersion(owner.client, org, {}, { template_id: t.id, name: 'second' });
    assert.equal(named.template_id, t.id);
    const e = await expectSdkError(createVersion(owner.client, org, {}, { template_id: t.id, name: 'v1.0-beta_2' }), 409, 'A template version with name "v1.0-beta_2" already exists for this template.');
    assert.deepEqual(e.response.validations, [{ field: 'name', detail: 'This value is already in use and should be unique.' }]);
    const generated = await createVersion(owner.client, org, {}, { template_id: t.id });
    assert.notEqual(generated.name, named.name);
  });

  it('errors: validation 400s, unknown file/template 404 (Coder), non-managers 404, unknown organization 404, no token 401', async () => {
    const fileId = await upload(owner.client, {});
    const bad = await expectSdkError(owner.client.createTemplateVersion(org, { storage_method: 'file', file_id: fileId, provisioner: 'bogus' as 'echo' }), 400, 'Validation failed.');
    assert.deepEqual(bad.response.validations, [{ field: 'provisioner', detail: 'Validation failed for tag "oneof" with value: "bogus"' }]);
    for (const provisioner of ['local', 'terraform'] as const) {
      const v = await owner.client.createTemplateVersion(org, { storage_method: 'file', file_id: fileId, provisioner });
      assert.equal(v.job.status, 'pending');
    }
    const noFile = await expectSdkError(owner.client.http.json('POST', `/api/v2/organizations/${org}/templateversions`, { body: { storage_method: 'file', provisioner: 'echo' } }), 400, 'Validation failed.');
    assert.equal(noFile.response.validations?.[0]?.field, 'file_id');
    const storage = await expectSdkError(owner.client.createTemplateVersion(org, { storage_method: 'git' as 'file', file_id: fileId, provisioner: 'echo' }), 400, 'Validation failed.');
    assert.equal(storage.response.validations?.[0]?.field, 'storage_method');
    const badName = await expectSdkError(owner.client.createTemplateVersion(org, { name: 'has space', storage_method: 'file', file_id: fileId, provisioner: 'echo' }), 400, 'Validation failed.');
    assert.deepEqual(badName.response.validations, [{ field: 'name', detail: 'Validation failed for tag "template_version_name" with value: "has space"' }]);

    await expectSdkError(owner.client.createTemplateVersion(org, { storage_method: 'file', file_id: randomUUID(), provisioner: 'echo' }), 404, 'File not found.');
    await expectSdkError(owner.client.createTemplateVersion(org, { storage_method: 'file', file_id: fileId, provisioner: 'echo', template_id: randomUUID() }), 404, 'Template does not exist.');
    // Members cannot create versions, even from their own upload.
    const memberFile = await upload(member.client, { import: {} });
    await expectSdkError(member.client.createTemplateVersion(org, { storage_method: 'file', file_id: memberFile, provisioner: 'echo' }), 404, NOT_FOUND);
    await expectSdkError(owner.client.createTemplateVersion(randomUUID(), { storage_method: 'file', file_id: fileId, provisioner: 'echo' }), 404, NOT_FOUND);
    await expectSdkError(owner.client.createTemplateVersion('no-such-org', { storage_method: 'file', file_id: fileId, provisioner: 'echo' }), 404, NOT_FOUND);
    // The organization can be named instead of given by id.
    const byName = await owner.client.createTemplateVersion((await owner.client.organization(org)).name, { storage_method: 'file', file_id: fileId, provisioner: 'echo' });
    assert.equal(byName.organization_id, org);
    const res = await request(srv.url, 'POST', `/api/v2/organizations/${org}/templateversions`, { json: { storage_method: 'file', file_id: fileId, provisioner: 'echo' } });
    assertEnvelope(res, 401, 'You are signed out or your session has expired. Please sign in again to continue.');
  });

  it('GET: unknown 404, bad UUID 400, a draft (unbound) version is hidden from members, a bound one is readable', async () => {
    await expectSdkError(owner.client.templateVersion(randomUUID()), 404, NOT_FOUND);
    const badUuid = await request(srv.url, 'GET', '/api/v2/templateversions/not-a-uuid', { token: owner.client.token });
    assertEnvelope(badUuid, 400, 'Invalid UUID "not-a-uuid".');
    const draft = await createVersion(owner.client, org, {});
    await expectSdkError(member.client.templateVersion(draft.id), 404, NOT_FOUND);
    await expectSdkError(member.client.templateVersionLogs(draft.id), 404, NOT_FOUND);
    assert.equal((await admin.client.templateVersion(draft.id)).id, draft.id);
    await owner.client.createTemplate(org, { name: 'tv-bound', template_version_id: draft.id });
    const seen = await member.client.templateVersion(draft.id);
    assert.equal(seen.created_by.username, owner.username);
  });

  it('resources before the import completes → 400; logs list is [] and validates its query', async () => {
    const v = await createVersion(owner.client, org, {});
    await expectSdkError(owner.client.templateVersionResources(v.id), 400, "Job hasn't completed!");
    assert.deepEqual(await owner.client.templateVersionLogs(v.id), []);
    const res = await request(srv.url, 'GET', `/api/v2/templateversions/${v.id}/logs?after=abc`, { token: owner.client.token });
    const env = assertEnvelope(res, 400, 'Query param "after" must be an integer.');
    assert.deepEqual(env.validations, [{ field: 'after', detail: 'Must be an integer' }]);
  });

  it('cancel of a pending import: members 404, manager 200, job canceled at once, follower closed with 1000, then 400 on repeat', async () => {
    const v = await createVersion(owner.client, org, {});
    const follower = owner.client.followTemplateVersionLogs(v.id);
    const lines = collect(follower);
    await expectSdkError(member.client.cancelTemplateVersion(v.id), 404, NOT_FOUND);
    assert.deepEqual(await admin.client.cancelTemplateVersion(v.id), { message: 'Job has been marked as canceled...' });
    const after = await owner.client.templateVersion(v.id);
    assert.equal(after.job.status, 'canceled');
    assert.ok(after.job.canceled_at && after.job.completed_at);
    assert.equal((await follower.end).code, 1000);
    assert.deepEqual(await lines, []);
    await expectSdkError(owner.client.cancelTemplateVersion(v.id), 400, 'Job has already completed!');
    // A canceled import is complete: its (empty) resources can be listed.
    assert.deepEqual(await owner.client.templateVersionResources(v.id), []);
    await expectSdkError(owner.client.cancelTemplateVersion(randomUUID()), 404, NOT_FOUND);
  });
});

describe('template versions with a daemon: the echo import runs', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let org: string;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
    org = owner.organizationId;
  });
  after(async () => srv.close());

  it('pending → succeeded; logs carry the import stage; resources come from the import script, sorted by name', async () => {
    const echo = {
      import: {
        logs: [{ output: 'parsing' }, { output: 'careful', level: 'warn' }],
        resources: [
          { name: 'zeta', type: 'null_resource', metadata: [{ key: 'size', value: 'xl', sensitive: false }] },
          {
            name: 'dev',
            type: 'docker_container',
            icon: '/icon/docker.png',
            agents: [{ name: 'main', architecture: 'amd64', operating_system: 'linux', apps: [{ slug: 'code', display_name: 'VS Code', url: 'http://localhost:8080' }] }],
          },
        ],
      },
      start: { logs: [{ output: 'never run by an import' }] },
    };
    const created = await createVersion(owner.client, org, echo);
    assert.ok(['pending', 'running', 'succeeded'].includes(created.job.status));
    const done = await waitForImport(owner.client, created.id);
    assert.equal(done.job.status, 'succeeded', done.job.error);
    assert.ok(done.job.started_at && done.job.completed_at && done.job.worker_id);
    assert.equal(done.job.queue_position, 0);

    const logs = await owner.client.templateVersionLogs(created.id);
    const script = logs.filter((l) => l.log_source === 'provisioner');
    assert.deepEqual(script.map((l) => [l.stage, l.log_level, l.output]), [
      ['Parsing template parameters', 'info', 'parsing'],
      ['Parsing template parameters', 'warn', 'careful'],
    ]);
    assert.ok(logs.some((l) => l.log_source === 'provisioner_daemon' && l.stage === 'Setting up'));
    assert.ok(!logs.some((l) => l.output === 'never run by an import'));
    // Following a finished import sends the history, then closes normally.
    const follower = owner.client.followTemplateVersionLogs(created.id);
    assert.deepEqual((await collect(follower)).map((l) => l.id), logs.map((l) => l.id));
    assert.equal((await follower.end).code, 1000);

    const resources = await owner.client.templateVersionResources(created.id);
    const startResources = resources.filter((r) => r.workspace_transition === 'start');
    assert.deepEqual(startResources.map((r) => r.name), ['dev', 'zeta']);
    const dev = startResources[0];
    assert.equal(dev?.job_id, done.job.id);
    assert.equal(dev?.type, 'docker_container');
    assert.equal(dev?.icon, '/icon/docker.png');
    assert.equal(dev?.agents?.[0]?.name, 'main');
    assert.equal(dev?.agents?.[0]?.apps[0]?.slug, 'code');
    assert.ok(!('metadata' in (dev ?? {})), 'empty metadata is omitted');
    assert.deepEqual(startResources[1]?.metadata, [{ key: 'size', value: 'xl', sensitive: false }]);
    assert.ok(!('agents' in (startResources[1] ?? {})), 'a resource without agents omits the key');
  });

  it('a failing import ends failed with the script error; its resources are an empty list', async () => {
    const v = await createVersion(owner.client, org, { import: { logs: [{ output: 'about to fail' }], error: 'boom' } });
    const done = await waitForImport(owner.client, v.id);
    assert.equal(done.job.status, 'failed');
    assert.equal(done.job.error, 'boom');
    assert.deepEqual(await owner.client.templateVersionResources(v.id), []);
    assert.ok((await owner.client.templateVersionLogs(v.id)).some((l) => l.output === 'about to fail'));
  });

  it('an archive without echo.json imports at once with no resources', async () => {
    const { hash } = await owner.client.upload(createTar({ 'README.md': '# nothing to see' }));
    const v = await owner.client.createTemplateVersion(org, { storage_method: 'file', file_id: hash, provisioner: 'echo' });
    const done = await waitForImport(owner.client, v.id);
    assert.equal(done.job.status, 'succeeded');
    assert.deepEqual(await owner.client.templateVersionResources(v.id), []);
  });

  it('cancel of a running import: canceling at once, then failed with error "canceled" once the echo script stops', async () => {
    const v = await createVersion(owner.client, org, { import: { logs: [{ output: 'hanging' }], hang: true } });
    await waitFor(async () => (await owner.client.templateVersionLogs(v.id)).some((l) => l.output === 'hanging'), 'the import to start hanging');
    const follower = owner.client.followTemplateVersionLogs(v.id);
    const lines = collect(follower);
    await owner.client.cancelTemplateVersion(v.id);
    const right = await owner.client.templateVersion(v.id);
    assert.ok(['canceling', 'failed'].includes(right.job.status), right.job.status);
    const done = await waitForImport(owner.client, v.id, ['failed', 'canceled']);
    assert.equal(done.job.status, 'failed');
    assert.equal(done.job.error, 'canceled');
    assert.equal((await follower.end).code, 1000);
    assert.ok((await lines).some((l) => l.output === 'hanging'));
    await expectSdkError(owner.client.cancelTemplateVersion(v.id), 400, 'Job has already completed!');
  });
});
