import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

import { isSdkError } from '../../sdk/errors.js';
import { tarDirectory } from '../../sdk/tar.js';
import type { ProvisionerType } from '../../sdk/types/provisionerJobs.js';
import { parseCommand, stringFlag, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import { println, type CliIO } from '../io.js';
import { watchJob } from '../jobStream.js';
import { findOrganization } from '../lookup.js';
import { warnIfNoProvisioner } from '../noProvisioner.js';
import { formatBytes } from '../output.js';
import { connect } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln templates push [<name>] [flags]',
  summary: 'Create a template from a directory, or publish a new version of it',
  description: [
    'Packs the directory into a tar (no tar command needed), uploads it, creates a template version and streams its',
    'import live. When the import succeeds, a new template is created, or the new version becomes the active one of',
    'the existing template. The name defaults to the directory\'s name.',
  ].join('\n'),
  examples: [
    { text: 'Publish the current directory as template "echo"', command: 'kiln templates push echo' },
    { text: 'Publish another directory, naming the version', command: 'kiln templates push echo -d ./templates/echo --name v2' },
    { text: 'Upload a version without making it active', command: 'kiln templates push echo --activate=false' },
  ],
  flags: [
    { name: 'directory', short: 'd', type: 'string', default: '.', placeholder: 'dir', description: 'The template\'s directory' },
    { name: 'provisioner', type: 'string', default: '', placeholder: 'echo|local|terraform', description: 'Which provisioner builds the template (default: local when the directory holds kiln.json, echo otherwise)' },
    { name: 'name', type: 'string', placeholder: 'name', description: 'The new version\'s name (generated when absent)' },
    { name: 'activate', type: 'boolean', default: true, description: 'Make the new version the active one (--activate=false to only upload it)' },
  ],
  args: { min: 0, max: 1 },
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const { flags, args } = parsed;
  const dir = path.resolve(io.cwd, String(flags.directory));
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new CliError(`${dir} is not a directory.`);
  const name = args[0] ?? path.basename(dir);
  const { client } = await connect(io);
  const org = await findOrganization(client);
  const existing = await client.templateByName(org.id, name).catch((e: unknown) => {
    if (isSdkError(e, 404)) return undefined;
    throw e;
  });

  const tar = await tarDirectory(dir);
  println(io.stdout, `Uploading ${path.relative(io.cwd, dir) || '.'} (${formatBytes(tar.length)})`);
  const { hash } = await client.upload(tar);
  const provisioner = ((flags.provisioner as string) || (await detectProvisioner(dir))) as ProvisionerType;
  const version = await client.createTemplateVersion(org.id, {
    storage_method: 'file',
    file_id: hash,
    provisioner,
    template_id: existing?.id,
    name: stringFlag(flags, 'name'),
  });
  const what = `the import of version ${version.name}`;
  warnIfNoProvisioner(io.stderr, provisioner, version.matched_provisioners, what);
  const job = await watchJob(io, {
    job: version.job,
    follow: (after, signal) => client.followTemplateVersionLogs(version.id, { after, signal }),
    refresh: async () => (await client.templateVersion(version.id)).job,
    cancel: async () => {
      await client.cancelTemplateVersion(version.id);
    },
    what,
  });
  if (job.status !== 'succeeded') throw new CliError(`${what} ${job.canceled_at ? 'was canceled' : 'failed'}.`, job.error || undefined);

  if (!existing) {
    await client.createTemplate(org.id, { name, template_version_id: version.id });
    println(io.stdout, `Template "${name}" created with version ${version.name}.`);
  } else if (flags.activate) {
    await client.setActiveTemplateVersion(existing.id, version.id);
    println(io.stdout, `Template "${name}" updated: version ${version.name} is now active.`);
  } else {
    println(io.stdout, `Version ${version.name} of template "${name}" uploaded; the active version is unchanged.`);
  }
  return 0;
}

/** kiln.json is the local provisioner's template file, *.tf files make a Terraform template; otherwise echo is meant. */
async function detectProvisioner(dir: string): Promise<ProvisionerType> {
  if ((await stat(path.join(dir, 'kiln.json')).catch(() => undefined))?.isFile()) return 'local';
  if ((await readdir(dir).catch(() => [] as string[])).some((f) => f.endsWith('.tf'))) return 'terraform';
  return 'echo';
}
