import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import type { KilnClient } from '../../src/sdk/client.js';
import { createTar } from '../../src/sdk/tar.js';
import type { ProvisionerJobStatus } from '../../src/sdk/types/provisionerJobs.js';
import type { Template, TemplateVersion } from '../../src/sdk/types/templates.js';
import { startTestServer, type TestServer, type TestUser } from '../harness/server.js';
import { createWorkspace, waitForBuild } from '../harness/templates.js';
import { waitFor } from '../harness/wait.js';

import { assertEnvelope, expectSdkError, request } from './envelope.js';

const NOT_FOUND = 'Resource not found or you do not have access to this resource';

let seq = 0;
const uniqueName = (prefix: string) => `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 6)}`;

/** Uploads `echo` and creates a version; waits for the import to reach one of `until` unless it is empty. */
async function version(client: KilnClient, org: string, echo: unknown, opts: { templateId?: string; until?: ProvisionerJobStatus[] } = {}): Promise<TemplateVersion> {
  const { hash } = await client.upload(createTar({ 'echo.json': JSON.stringify(echo) }));
  const v = await client.createTemplateVersion(org, { storage_method: 'file', file_id: hash, provisioner: 'echo', template_id: opts.templateId });
  const until = opts.until ?? ['succeeded', 'failed', 'canceled'];
  if (until.length === 0) return v;
  return waitFor(async () => {
    const cur = await client.templateVersion(v.id);
    return until.includes(cur.job.status) ? cur : undefined;
  }, `import of ${v.id}`);
}

describe('templates', () => {
  let srv: TestServer;
  let owner: TestUser & { organizationId: string };
  let member: TestUser;
  let admin: TestUser;
  let org: string;
  before(async () => {
    srv = await startTestServer({ provisionerDaemons: 1 });
    owner = await srv.createFirstUser();
    org = owner.organizationId;
    member = await srv.createUser(owner.client);
    admin = await srv.createUser(owner.client, ['template-admin']);
  });
  after(async () => srv.close());

  it('an organization without templates lists [] (never null)', async () => {
    const res = await request(srv.url, 'GET', `/api/v2/organizations/${org}/templates`, { token: owner.client.token });
    assert.equal(res.status, 200);
    assert.equal(res.text, '[]');
  });

  it('POST → 201 Template with every field; the version joins the template; get by id, by name (any case) and in the list', async () => {
    const v = await version(admin.client, org, {});
    const t = await admin.client.createTemplate(org, {
      name: 'docker-dev',
      display_name: 'Docker Dev',
      description: 'A container to code in',
      icon: '/icon/docker.png',
      template_version_id: v.id,
      default_ttl_ms: 3_600_000,
    });
    assert.equal(t.name, 'docker-dev');
    assert.equal(t.display_name, 'Docker Dev');
    assert.equal(t.description, 'A container to code in');
    assert.equal(t.icon, '/icon/docker.png');
    assert.equal(t.organization_id, org);
    assert.equal(t.provisioner, 'echo');
    assert.equal(t.active_version_id, v.id);
    assert.equal(t.default_ttl_ms, 3_600_000);
    assert.equal(t.allow_user_cancel_workspace_jobs, false, 'Coder defaults it to false when omitted');
    assert.equal(t.created_by_id, admin.userId);
    assert.equal(t.created_by_name, admin.username);
    assert.equal(t.workspace_owner_count, 0);
    assert.equal(t.active_user_count, 0);
    assert.deepEqual(t.build_time_stats, { start: { P50: null, P95: null }, stop: { P50: null, P95: null }, delete: { P50: null, P95: null } });
    assert.equal(t.created_at, t.updated_at);
    // December 2022's fields plus the later-Coder ones current clients read (docs/compatibility.md), nothing else.
    assert.deepEqual(
      Object.keys(t).sort(),
      [
        'active_user_count', 'active_version_id', 'activity_bump_ms', 'allow_user_autostart', 'allow_user_autostop', 'allow_user_cancel_workspace_jobs',
        'autostart_requirement', 'autostop_requirement', 'build_time_stats', 'created_at', 'created_by_id', 'created_by_name', 'default_ttl_ms',
        'deprecated', 'deprecation_message', 'description', 'display_name', 'failure_ttl_ms', 'icon', 'id', 'max_port_share_level', 'name',
        'organization_display_name', 'organization_icon', 'organization_id', 'organization_name', 'provisioner', 'require_active_version',
        'time_til_dormant_autodelete_ms', 'time_til_dormant_ms', 'updated_at', 'workspace_owner_count',
      ],
    );
    assert.equal(t.organization_name, 'default');
    assert.equal((await owner.client.templateVersion(v.id)).template_id, t.id);

    assert.deepEqual(await member.client.template(t.id), t);
    assert.deepEqual(await member.client.templateByName(org, 'DOCKER-dev'), t);
    assert.ok((await member.client.templates(org)).some((x) => x.id === t.id));
    const allowed = await owner.client.createTemplate(org, { name: uniqueName('cancel'), template_version_id: (await version(owner.client, org, {})).id, allow_user_cancel_workspace_jobs: true });
    assert.equal(allowed.allow_user_cancel_workspace_jobs, true);
  });

  it('POST errors: 409 taken name, 404 unknown version, 400 version already in a template, 400 validation, 400 negative TTL, 404 for members', async () => {
    const v1 = await version(owner.client, org, {});
    const t = await owner.client.createTemplate(org, { name: uniqueName('dup'), template_version_id: v1.id });
    const v2 = await version(owner.client, org, {});
    const dup = await expectSdkError(owner.client.createTemplate(org, { name: t.name.toUpperCase(), template_version_id: v2.id }), 409, `Template with name "${t.name.toUpperCase()}" already exists.`);
    assert.deepEqual(dup.response.validations, [{ field: 'name', detail: 'This value is already in use and should be unique.' }]);

    const missing = randomUUID();
    const nf = await expectSdkError(owner.client.createTemplate(org, { name: uniqueName('nf'), template_version_id: missing }), 404, `Template version "${missing}" does not exist.`);
    assert.deepEqual(nf.response.validations, [{ field: 'template_version_id', detail: 'Template version does not exist' }]);

    const bound = await expectSdkError(owner.client.createTemplate(org, { name: uniqueName('bound'), template_version_id: v1.id }), 400, `Template version ${v1.id} is already part of a template`);
    assert.deepEqual(bound.response.validations, [{ field: 'template_version_id', detail: 'Template version is already part of a template' }]);

    const invalid = await expectSdkError(
      owner.client.createTemplate(org, { name: 'Not_Valid', display_name: ' padded', description: 'x'.repeat(128), template_version_id: v2.id }),
      400,
      'Validation failed.',
    );
    assert.deepEqual(invalid.response.validations, [
      { field: 'name', detail: 'Validation failed for tag "template_name" with value: "Not_Valid"' },
      { field: 'display_name', detail: 'Validation failed for tag "template_display_name" with value: " padded"' },
      { field: 'description', detail: `Validation failed for tag "lt" with value: "${'x'.repeat(128)}"` },
    ]);
    const noName = await expectSdkError(owner.client.http.json('POST', `/api/v2/organizations/${org}/templates`, { body: { template_version_id: v2.id } }), 400, 'Validation failed.');
    assert.equal(noName.response.validations?.[0]?.field, 'name');

    const ttl = await expectSdkError(owner.client.createTemplate(org, { name: uniqueName('ttl'), template_version_id: v2.id, default_ttl_ms: -1 }), 400, 'Invalid create template request.');
    assert.deepEqual(ttl.response.validations, [{ field: 'default_ttl_ms', detail: 'Must be a positive integer.' }]);

    await expectSdkError(member.client.createTemplate(org, { name: uniqueName('member'), template_version_id: v2.id }), 404, NOT_FOUND);
    await expectSdkError(owner.client.createTemplate(randomUUID(), { name: uniqueName('org'), template_version_id: v2.id }), 404, NOT_FOUND);
    // Nothing above bound v2: it can still make a template.
    assert.equal((await owner.client.createTemplate(org, { name: uniqueName('ok'), template_version_id: v2.id })).active_version_id, v2.id);
  });

  it('a template may be made from an unfinished or failed import (as Coder); building from it is refused with 406/400', async () => {
    const hanging = await version(owner.client, org, { import: { hang: true } }, { until: [] });
    await waitFor(async () => (await owner.client.templateVersion(hanging.id)).job.status === 'running', 'the import to run');
    const t = await owner.client.createTemplate(org, { name: uniqueName('running'), template_version_id: hanging.id });
    await expectSdkError(createWorkspace(owner.client, org, t.id), 406, 'The provided template version is running. Wait for it to complete importing!');
    await owner.client.cancelTemplateVersion(hanging.id);

    const failed = await version(owner.client, org, { import: { error: 'bad template' } });
    assert.equal(failed.job.status, 'failed');
    const tf = await owner.client.createTemplate(org, { name: uniqueName('failed'), template_version_id: failed.id });
    await expectSdkError(
      createWorkspace(owner.client, org, tf.id),
      400,
      `The provided template version "${failed.name}" has failed to import: "bad template". You cannot build workspaces with it!`,
    );
  });

  it('GET errors: unknown id and unknown name 404, bad UUID 400, no token 401', async () => {
    await expectSdkError(owner.client.template(randomUUID()), 404, NOT_FOUND);
    await expectSdkError(owner.client.templateByName(org, 'no-such-template'), 404, NOT_FOUND);
    assertEnvelope(await request(srv.url, 'GET', '/api/v2/templates/xyz', { token: owner.client.token }), 400, 'Invalid UUID "xyz".');
    assertEnvelope(await request(srv.url, 'GET', `/api/v2/organizations/${org}/templates`), 401);
  });

  it('PATCH: 200 with the new values, 304 when nothing changes, Coder zero-value semantics for absent fields, 400s, 409, 404 for members', async () => {
    const t = await owner.client.createTemplate(org, {
      name: uniqueName('patch'),
      display_name: 'Before',
      description: 'original description',
      icon: '/icon/a.png',
      template_version_id: (await version(owner.client, org, {})).id,
      default_ttl_ms: 60_000,
    });
    const newName = uniqueName('renamed');
    const updated = await owner.client.updateTemplate(t.id, {
      name: newName,
      display_name: 'After',
      description: 'lorem ipsum',
      icon: '/icon/b.png',
      default_ttl_ms: 120_000,
      allow_user_cancel_workspace_jobs: true,
    });
    assert.equal(updated.name, newName);
    assert.equal(updated.display_name, 'After');
    assert.equal(updated.description, 'lorem ipsum');
    assert.equal(updated.icon, '/icon/b.png');
    assert.equal(updated.default_ttl_ms, 120_000);
    assert.equal(updated.allow_user_cancel_workspace_jobs, true);
    assert.ok(Date.parse(updated.updated_at) >= Date.parse(t.updated_at));
    assert.deepEqual(await owner.client.template(t.id), updated);

    // The same values again: 304 with no body, nothing written.
    const same = { name: newName, display_name: 'After', description: 'lorem ipsum', icon: '/icon/b.png', default_ttl_ms: 120_000, allow_user_cancel_workspace_jobs: true };
    const res = await request(srv.url, 'PATCH', `/api/v2/templates/${t.id}`, { token: owner.client.token, json: same });
    assert.equal(res.status, 304);
    assert.equal(res.text, '');
    assert.equal((await owner.client.template(t.id)).updated_at, updated.updated_at);

    // Absent name and description keep their values; absent display name, icon, TTL and cancel flag become zero.
    const cleared = await owner.client.updateTemplate(t.id, { display_name: 'Only this' });
    assert.equal(cleared.name, newName);
    assert.equal(cleared.description, 'lorem ipsum');
    assert.equal(cleared.display_name, 'Only this');
    assert.equal(cleared.icon, '');
    assert.equal(cleared.default_ttl_ms, 0);
    assert.equal(cleared.allow_user_cancel_workspace_jobs, false);

    const bad = await expectSdkError(owner.client.updateTemplate(t.id, { name: 'bad name!' }), 400, 'Validation failed.');
    assert.deepEqual(bad.response.validations, [{ field: 'name', detail: 'Validation failed for tag "template_name" with value: "bad name!"' }]);
    const ttl = await expectSdkError(owner.client.updateTemplate(t.id, { default_ttl_ms: -5 }), 400, 'Invalid request to update template metadata!');
    assert.deepEqual(ttl.response.validations, [{ field: 'default_ttl_ms', detail: 'Must be a positive integer.' }]);
    const other = await owner.client.createTemplate(org, { name: uniqueName('other'), template_version_id: (await version(owner.client, org, {})).id });
    await expectSdkError(owner.client.updateTemplate(t.id, { name: other.name }), 409, `Template with name "${other.name}" already exists.`);
    await expectSdkError(member.client.updateTemplate(t.id, { display_name: 'nope' }), 404, NOT_FOUND);
    await expectSdkError(owner.client.updateTemplate(randomUUID(), { display_name: 'nope' }), 404, NOT_FOUND);
    assert.equal((await admin.client.updateTemplate(t.id, { name: newName, display_name: 'By admin' })).display_name, 'By admin');
  });

  it('versions: listed oldest first with their jobs; after_id/limit/offset paginate; bad values 400', async () => {
    const v1 = await version(owner.client, org, {});
    const t = await owner.client.createTemplate(org, { name: uniqueName('versions'), template_version_id: v1.id });
    const v2 = await version(owner.client, org, {}, { templateId: t.id });
    const v3 = await version(owner.client, org, { import: { error: 'nope' } }, { templateId: t.id });
    const all = await member.client.templateVersions(t.id);
    assert.deepEqual(all.map((v) => v.id), [v1.id, v2.id, v3.id]);
    assert.deepEqual(all.map((v) => v.job.status), ['succeeded', 'succeeded', 'failed']);
    assert.ok(all.every((v) => v.template_id === t.id && v.created_by.id === owner.userId));
    assert.deepEqual((await owner.client.templateVersions(t.id, { after_id: v1.id })).map((v) => v.id), [v2.id, v3.id]);
    assert.deepEqual((await owner.client.templateVersions(t.id, { limit: 1, offset: 1 })).map((v) => v.id), [v2.id]);
    assert.deepEqual((await owner.client.templateVersions(t.id, { limit: 0 })).length, 3, 'limit 0 means no limit');
    const unknown = randomUUID();
    await expectSdkError(owner.client.templateVersions(t.id, { after_id: unknown }), 400, `Record at "after_id" ("${unknown}") does not exists.`);
    const bad = await expectSdkError(owner.client.templateVersions(t.id, { limit: -1, after_id: 'x' }), 400, 'Query parameters have invalid values.');
    assert.deepEqual(bad.response.validations?.map((e) => e.field).sort(), ['after_id', 'limit']);
    await expectSdkError(owner.client.templateVersions(randomUUID()), 404, NOT_FOUND);
  });

  it('promote: 200 and the new active version; 404 unknown version; 400 another template’s version; 403 unsuccessful import; 404 for members', async () => {
    const v1 = await version(owner.client, org, {});
    const t = await owner.client.createTemplate(org, { name: uniqueName('promote'), template_version_id: v1.id });
    const v2 = await version(owner.client, org, {}, { templateId: t.id });
    await expectSdkError(member.client.setActiveTemplateVersion(t.id, v2.id), 404, NOT_FOUND);
    assert.deepEqual(await admin.client.setActiveTemplateVersion(t.id, v2.id), { message: 'Updated the active template version!' });
    assert.equal((await owner.client.template(t.id)).active_version_id, v2.id);
    // A workspace made now uses the promoted version.
    const ws = await createWorkspace(owner.client, org, t.id);
    assert.equal(ws.latest_build.template_version_id, v2.id);
    await waitForBuild(owner.client, ws.latest_build.id);

    await expectSdkError(owner.client.setActiveTemplateVersion(t.id, randomUUID()), 404, 'Template version not found.');
    const elsewhere = await version(owner.client, org, {});
    await expectSdkError(owner.client.setActiveTemplateVersion(t.id, elsewhere.id), 400, "The provided template version doesn't belong to the specified template.");
    const failed = await version(owner.client, org, { import: { error: 'x' } }, { templateId: t.id });
    const e = await expectSdkError(owner.client.setActiveTemplateVersion(t.id, failed.id), 403, 'Only versions that have been built successfully can be promoted.');
    assert.equal(e.response.detail, 'Attempted to promote a version with a failed build');
    const noId = await expectSdkError(owner.client.http.json('PATCH', `/api/v2/templates/${t.id}/versions`, { body: {} }), 400, 'Validation failed.');
    assert.equal(noId.response.validations?.[0]?.field, 'id');
    assert.equal((await owner.client.template(t.id)).active_version_id, v2.id);
  });

  it('workspace_owner_count counts distinct owners of live workspaces; build_time_stats fills in once a build succeeds', async () => {
    const t = await owner.client.createTemplate(org, { name: uniqueName('count'), template_version_id: (await version(owner.client, org, {})).id });
    const a = await createWorkspace(owner.client, org, t.id);
    const b = await createWorkspace(owner.client, org, t.id);
    const c = await createWorkspace(member.client, org, t.id);
    for (const w of [a, b, c]) await waitForBuild(owner.client, w.latest_build.id);
    assert.equal((await owner.client.template(t.id)).workspace_owner_count, 2);
    const del = await member.client.createWorkspaceBuild(c.id, { transition: 'delete' });
    await waitForBuild(owner.client, del.id, ['deleted']);
    const after = await owner.client.template(t.id);
    assert.equal(after.workspace_owner_count, 1, 'a deleted workspace no longer counts');
    const start = after.build_time_stats.start;
    assert.ok(typeof start?.P50 === 'number' && typeof start.P95 === 'number' && start.P50 <= start.P95, JSON.stringify(after.build_time_stats));
    assert.ok(typeof after.build_time_stats.delete?.P50 === 'number');
    assert.deepEqual(after.build_time_stats.stop, { P50: null, P95: null });
  });

  it('DELETE: 412 while workspaces live, 200 once they are deleted; then 404 everywhere, the name is free, its versions stay readable', async () => {
    const v = await version(owner.client, org, {});
    const t = await owner.client.createTemplate(org, { name: uniqueName('delete'), template_version_id: v.id });
    const ws = await createWorkspace(member.client, org, t.id);
    await waitForBuild(owner.client, ws.latest_build.id);
    await expectSdkError(member.client.deleteTemplate(t.id), 404, NOT_FOUND);
    await expectSdkError(owner.client.deleteTemplate(t.id), 412, 'All workspaces must be deleted before a template can be removed.');
    const del = await owner.client.createWorkspaceBuild(ws.id, { transition: 'delete' });
    await waitForBuild(owner.client, del.id, ['deleted']);

    assert.deepEqual(await admin.client.deleteTemplate(t.id), { message: 'Template has been deleted!' });
    await expectSdkError(owner.client.template(t.id), 404, NOT_FOUND);
    await expectSdkError(owner.client.templateByName(org, t.name), 404, NOT_FOUND);
    await expectSdkError(owner.client.deleteTemplate(t.id), 404, NOT_FOUND);
    await expectSdkError(owner.client.templateVersions(t.id), 404, NOT_FOUND);
    assert.ok(!(await owner.client.templates(org)).some((x) => x.id === t.id));
    assert.equal((await owner.client.templateVersion(v.id)).template_id, t.id, 'versions of a deleted template stay readable');
    await expectSdkError(version(owner.client, org, {}, { templateId: t.id, until: [] }), 404, 'Template does not exist.');
    const again = await owner.client.createTemplate(org, { name: t.name, template_version_id: (await version(owner.client, org, {})).id });
    assert.notEqual(again.id, t.id);
  });

  it('lists are ordered by name and visible to every member of the organization', async () => {
    const names = [uniqueName('zz-order'), uniqueName('aa-order')];
    for (const name of names) await owner.client.createTemplate(org, { name, template_version_id: (await version(owner.client, org, {})).id });
    const listed = (await member.client.templates(org)).map((x: Template) => x.name);
    const expected = [...listed].sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : x.toLowerCase() > y.toLowerCase() ? 1 : 0));
    assert.deepEqual(listed, expected);
    for (const name of names) assert.ok(listed.includes(name));
  });
});
