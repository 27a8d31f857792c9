import { appSubdomainUrl } from '../../sdk/apps.js';
import type { WorkspaceResource } from '../../sdk/types/workspaceBuilds.js';
import { parseCommand, type CommandSpec } from '../command.js';
import { println, type CliIO } from '../io.js';
import { findWorkspace } from '../lookup.js';
import { outputFlag, outputFormat, printJson, timeAgo } from '../output.js';
import { connect } from '../session.js';

export const spec: CommandSpec = {
  usage: 'kiln show <workspace> [flags]',
  summary: 'Show a workspace: status, latest build, resources, agents and apps',
  examples: [
    { text: 'What does "dev" consist of?', command: 'kiln show dev' },
    { text: 'The agents of alice\'s workspace, as JSON', command: "kiln show alice/dev -o json | jq '.latest_build.resources[].agents'" },
  ],
  flags: [outputFlag],
  args: { min: 1, max: 1 },
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const format = outputFormat(parsed.flags);
  const { client } = await connect(io);
  const ws = await findWorkspace(client, parsed.args[0] as string);
  if (format === 'json') {
    printJson(io, ws);
    return 0;
  }
  const b = ws.latest_build;
  const lines = [
    `Workspace:   ${ws.owner_name}/${ws.name}`,
    `Template:    ${ws.template_name} (version ${b.template_version_name}${ws.outdated ? ', outdated: a newer version is active' : ''})`,
    `Status:      ${b.status}`,
    `Last build:  #${b.build_number} ${b.transition} by ${b.initiator_name}, ${b.job.status}, ${timeAgo(b.created_at)}`,
  ];
  if (b.job.error) lines.push(`Error:       ${b.job.error}`);
  const params = await client.workspaceBuildParameters(b.id);
  if (params.length) {
    lines.push('', 'Parameters:');
    for (const p of params) lines.push(`  ${p.name}: ${p.value}`);
  }
  const shown = b.resources.filter((r) => !r.hide);
  const proxied = shown.some((r) => r.agents?.some((a) => a.apps.some((app) => app.subdomain_name)));
  // Apps are reached through kiln on their own host; the URL inside the workspace is only reachable from there.
  const appHost = proxied ? (await client.appHost()).host : '';
  const protocol = new URL(client.http.baseUrl).protocol;
  lines.push('', shown.length ? 'Resources:' : 'Resources:   none');
  for (const r of shown) lines.push(...resourceLines(r, (name) => appSubdomainUrl(appHost, name, protocol)));
  for (const l of lines) println(io.stdout, l);
  return 0;
}

function resourceLines(r: WorkspaceResource, appUrl: (subdomainName: string) => string | undefined): string[] {
  const out = [`  ${r.type}.${r.name}${r.daily_cost ? ` (cost ${r.daily_cost}/day)` : ''}`];
  for (const m of r.metadata ?? []) out.push(`    ${m.key}: ${m.sensitive ? '(sensitive)' : m.value}`);
  for (const a of r.agents ?? []) {
    out.push(`    agent ${a.name} (${a.operating_system}/${a.architecture}): ${a.status}, lifecycle ${a.lifecycle_state}${a.directory ? `, in ${a.directory}` : ''}`);
    for (const app of a.apps) {
      const external = app.subdomain_name ? appUrl(app.subdomain_name) : undefined;
      const target = external ? `${external} (serves ${app.url})` : app.url || app.command || '';
      out.push(`      app ${app.slug}${app.display_name && app.display_name !== app.slug ? ` "${app.display_name}"` : ''}${target ? `: ${target}` : ''} (${app.health})`);
    }
  }
  return out;
}
