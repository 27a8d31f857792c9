import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseCommand, stringFlag, type CommandSpec } from '../command.js';
import { println, type CliIO } from '../io.js';
import { connect } from '../session.js';

export const START = '# ------------START-KILN-----------';
export const END = '# ------------END-KILN------------';

export const spec: CommandSpec = {
  usage: 'kiln config-ssh [flags]',
  summary: 'Add your workspaces to your SSH config as kiln.<workspace>',
  description:
    'Writes a marked block into ~/.ssh/config with one "Host kiln.<workspace>" per workspace of yours, each reached through ' +
    '"kiln ssh --stdio". Then ssh, scp, sftp, rsync and VS Code Remote-SSH work with kiln.<workspace>. Running it again ' +
    'replaces the block (new workspaces appear); --remove takes it out. Nothing outside the block is touched.',
  examples: [
    { text: 'Set up, then use plain ssh', command: 'kiln config-ssh && ssh kiln.dev' },
    { text: 'Undo', command: 'kiln config-ssh --remove' },
  ],
  flags: [
    { name: 'ssh-config-file', type: 'string', description: 'The SSH config file to change', default: '~/.ssh/config', placeholder: 'path' },
    { name: 'remove', type: 'boolean', description: "Remove kiln's block and nothing else" },
  ],
};

/** The text without kiln's block (and the blank line that separated it). */
export function withoutBlock(text: string): string {
  const s = text.indexOf(START);
  if (s < 0) return text;
  const e = text.indexOf(END, s);
  const end = e < 0 ? text.length : e + END.length;
  const before = text.slice(0, s).replace(/\n+$/, '\n');
  const after = text.slice(end).replace(/^\n+/, '');
  return (before === '\n' ? '' : before) + after;
}

const q = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;

export function block(names: string[], proxy: string[]): string {
  const lines = [START, '# This section is managed by kiln: "kiln config-ssh" rewrites it, "kiln config-ssh --remove" removes it.'];
  for (const n of names) {
    lines.push(
      `Host kiln.${n}`,
      `  ProxyCommand ${[...proxy.map(q), 'ssh', '--stdio', q(n)].join(' ')}`,
      // The agent's host key is made when it starts; the connection is authenticated by the kiln server instead.
      '  StrictHostKeyChecking no',
      '  UserKnownHostsFile /dev/null',
      '  LogLevel ERROR',
      '  ConnectTimeout 0',
    );
  }
  lines.push(END);
  return lines.join('\n') + '\n';
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const home = io.env.HOME || os.homedir();
  const raw = stringFlag(parsed.flags, 'ssh-config-file') ?? '~/.ssh/config';
  const file = path.resolve(io.cwd, raw.startsWith('~/') ? path.join(home, raw.slice(2)) : raw);
  const current = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  const rest = withoutBlock(current);
  let next: string;
  if (parsed.flags.remove) {
    next = rest;
  } else {
    const { client } = await connect(io);
    const list = await client.workspaces({ q: 'owner:me' });
    const names = list.workspaces.map((w) => w.name).sort();
    const kiln = fileURLToPath(new URL('../../../bin/kiln.js', import.meta.url));
    const sep = rest && !rest.endsWith('\n\n') ? (rest.endsWith('\n') ? '\n' : '\n\n') : '';
    next = rest + sep + block(names, [process.execPath, kiln]);
    println(io.stdout, `${names.length} workspace${names.length === 1 ? '' : 's'} in ${file}: ${names.map((n) => `kiln.${n}`).join(', ') || 'none yet'}`);
  }
  if (next !== current) {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, next, { mode: 0o600 });
    await rename(tmp, file);
  }
  if (parsed.flags.remove) println(io.stdout, current === next ? `No kiln block in ${file}.` : `Removed the kiln block from ${file}.`);
  return 0;
}
