import type { KilnClient } from '../../sdk/client.js';
import { dispatch, listFlag, parseCommand, stringFlag, type CommandSpec } from '../command.js';
import { UsageError } from '../flags.js';
import { println, type CliIO } from '../io.js';
import { findOrganization } from '../lookup.js';
import { outputFlag, outputFormat, printJson, printTable, timeAgo } from '../output.js';
import { connect } from '../session.js';

/** `kiln provisioner …`: keys for external daemons, and what the daemons and the queue are doing. */
export function run(argv: string[], io: CliIO): Promise<number> {
  return dispatch(
    io,
    argv,
    'provisioner',
    'Manage provisioner keys; list provisioner daemons and jobs',
    {
      keys: { summary: 'Create, list and delete provisioner keys (keys create <name> | keys list | keys delete <name>)', run: (a, i) => keys(a, i) },
      list: { summary: 'List provisioner daemons', run: (a, i) => listDaemons(a, i) },
      jobs: { summary: 'List provisioner jobs (jobs list)', run: (a, i) => jobs(a, i) },
    },
    { key: 'keys', ls: 'list', job: 'jobs' },
  );
}

const orgFlag = { name: 'org', short: 'O', type: 'string' as const, placeholder: 'org', description: 'Organization id or name (default: your first)' };

async function orgOf(client: KilnClient, flags: Record<string, unknown>): Promise<string> {
  const o = flags.org;
  return typeof o === 'string' && o ? o : (await findOrganization(client)).id;
}

function formatTags(t: Record<string, string>): string {
  return Object.entries(t)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function parseTags(values: string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const t of values) {
    const i = t.indexOf('=');
    if (i <= 0) throw new UsageError(`--tag "${t}" must be key=value`);
    tags[t.slice(0, i).trim()] = t.slice(i + 1).trim();
  }
  return tags;
}

const keysCreate: CommandSpec = {
  usage: 'kiln provisioner keys create <name> [flags]',
  summary: 'Create a provisioner key; its secret is printed once',
  examples: [{ text: 'A key whose daemons take jobs tagged env=prod', command: 'kiln provisioner keys create prod --tag env=prod' }],
  flags: [{ name: 'tag', short: 't', type: 'list', placeholder: 'k=v', description: 'A tag the key\'s daemons carry (repeatable)' }, orgFlag],
  args: { min: 1, max: 1 },
};
const keysList: CommandSpec = { usage: 'kiln provisioner keys list [flags]', summary: 'List provisioner keys', flags: [outputFlag, orgFlag], args: { min: 0, max: 0 } };
const keysDelete: CommandSpec = {
  usage: 'kiln provisioner keys delete <name> [flags]',
  summary: 'Delete a provisioner key: its daemons are disconnected and their running jobs fail',
  flags: [orgFlag],
  args: { min: 1, max: 1 },
};

function keys(argv: string[], io: CliIO): Promise<number> {
  return dispatch(io, argv, 'provisioner keys', 'Manage provisioner keys', {
    create: {
      summary: keysCreate.summary,
      run: async (a, i) => {
        const p = parseCommand(i, a, keysCreate);
        if (!p) return 0;
        const { client } = await connect(i);
        const res = await client.createProvisionerKey(await orgOf(client, p.flags), { name: p.args[0] as string, tags: parseTags(listFlag(p.flags, 'tag')) });
        println(i.stderr, `Created provisioner key "${p.args[0]}". Its secret is shown only now:`);
        println(i.stdout, res.key);
        return 0;
      },
    },
    list: {
      summary: keysList.summary,
      run: async (a, i) => {
        const p = parseCommand(i, a, keysList);
        if (!p) return 0;
        const { client } = await connect(i);
        const list = await client.provisionerKeys(await orgOf(client, p.flags));
        if (outputFormat(p.flags) === 'json') printJson(i, list);
        else printTable(i, ['name', 'tags', 'created'], list.map((k) => [k.name, formatTags(k.tags), timeAgo(k.created_at)]), 'No provisioner keys.');
        return 0;
      },
    },
    delete: {
      summary: keysDelete.summary,
      run: async (a, i) => {
        const p = parseCommand(i, a, keysDelete);
        if (!p) return 0;
        const { client } = await connect(i);
        await client.deleteProvisionerKey(await orgOf(client, p.flags), p.args[0] as string);
        println(i.stdout, `Deleted provisioner key "${p.args[0]}".`);
        return 0;
      },
    },
  }, { ls: 'list', rm: 'delete' });
}

const daemonsList: CommandSpec = {
  usage: 'kiln provisioner list [flags]',
  summary: 'List provisioner daemons with their status and jobs',
  flags: [
    outputFlag,
    orgFlag,
    { name: 'status', short: 's', type: 'string', placeholder: 'idle,busy,offline', description: 'Only daemons with these statuses' },
    { name: 'tag', short: 't', type: 'list', placeholder: 'k=v', description: 'Only daemons with this tag (repeatable)' },
  ],
  args: { min: 0, max: 0 },
};

async function listDaemons(argv: string[], io: CliIO): Promise<number> {
  const p = parseCommand(io, argv, daemonsList);
  if (!p) return 0;
  const { client } = await connect(io);
  const tags = parseTags(listFlag(p.flags, 'tag'));
  const list = await client.provisionerDaemons(await orgOf(client, p.flags), {
    status: stringFlag(p.flags, 'status'),
    tags: Object.keys(tags).length ? JSON.stringify(tags) : undefined,
  });
  if (outputFormat(p.flags) === 'json') printJson(io, list);
  else {
    printTable(
      io,
      ['name', 'status', 'key', 'provisioners', 'tags', 'version', 'last seen', 'current job'],
      list.map((d) => [d.name, d.status ?? '', d.key_name ?? '', d.provisioners.join(','), formatTags(d.tags), d.version, timeAgo(d.last_seen_at), d.current_job ? `${d.current_job.id} (${d.current_job.template_name || 'no template'})` : '']),
      'No provisioner daemons.',
    );
  }
  return 0;
}

const jobsList: CommandSpec = {
  usage: 'kiln provisioner jobs list [flags]',
  summary: 'List provisioner jobs, newest first',
  flags: [
    outputFlag,
    orgFlag,
    { name: 'status', short: 's', type: 'string', placeholder: 'pending,running,…', description: 'Only jobs with these statuses' },
    { name: 'limit', short: 'l', type: 'number', default: 50, placeholder: 'n', description: 'At most this many' },
  ],
  args: { min: 0, max: 0 },
};

function jobs(argv: string[], io: CliIO): Promise<number> {
  return dispatch(io, argv, 'provisioner jobs', 'List provisioner jobs', {
    list: {
      summary: jobsList.summary,
      run: async (a, i) => {
        const p = parseCommand(i, a, jobsList);
        if (!p) return 0;
        const { client } = await connect(i);
        const list = await client.provisionerJobs(await orgOf(client, p.flags), { status: stringFlag(p.flags, 'status'), limit: Number(p.flags.limit) });
        if (outputFormat(p.flags) === 'json') printJson(i, list);
        else {
          printTable(
            i,
            ['id', 'status', 'tags', 'created', 'worker', 'error'],
            list.map((j) => [j.id, j.status, formatTags(j.tags), timeAgo(j.created_at), j.worker_id ?? '', j.error ?? '']),
            'No provisioner jobs.',
          );
        }
        return 0;
      },
    },
  }, { ls: 'list' });
}
