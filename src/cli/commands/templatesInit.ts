import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseCommand, type CommandSpec } from '../command.js';
import { CliError } from '../errors.js';
import { UsageError } from '../flags.js';
import { println, type CliIO } from '../io.js';
import { ECHO_README, echoExample } from '../templateExamples.js';

export const spec: CommandSpec = {
  usage: 'kiln templates init [<dir>] [flags]',
  summary: 'Write an example template into a directory (default: the current one)',
  description: [
    'The echo example (echo.json with start, stop and delete scripts, and a README) builds at once anywhere: push it',
    'and create a workspace from it to see a build streamed live. The local example (kiln.json, see docs/templates.md)',
    'is a real workspace on this machine: a sandboxed home, an agent, a startup script and a small web app.',
  ].join('\n'),
  examples: [
    { text: 'Start a template in ./my-template and publish it', command: 'kiln templates init my-template && kiln templates push my-template -d my-template' },
    { text: 'A real local workspace', command: 'kiln templates init dev --provisioner local && kiln templates push dev -d dev' },
    { text: 'A Coder-style Terraform template (examples/terraform-local)', command: 'kiln templates init tf --provisioner terraform' },
  ],
  flags: [{ name: 'provisioner', type: 'string', default: 'echo', placeholder: 'echo', description: 'Which provisioner the example is for' }],
  args: { min: 0, max: 1 },
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(io, argv, spec);
  if (!parsed) return 0;
  const provisioner = String(parsed.flags.provisioner);
  if (provisioner !== 'echo' && provisioner !== 'local' && provisioner !== 'terraform') {
    throw new UsageError(`unknown provisioner "${provisioner}" (echo, local and terraform have examples)`);
  }
  const dir = path.resolve(io.cwd, parsed.args[0] ?? '.');
  const files: Record<string, string> =
    provisioner === 'local'
      ? await localExample()
      : provisioner === 'terraform'
        ? await terraformExample()
        : { 'echo.json': JSON.stringify(echoExample(), null, 2) + '\n', 'README.md': ECHO_README };
  for (const name of Object.keys(files)) {
    if (await exists(path.join(dir, name))) throw new CliError(`${path.join(dir, name)} exists already.`, 'Pick an empty directory: kiln templates init <dir>');
  }
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  const rel = path.relative(io.cwd, dir) || '.';
  println(io.stdout, `Wrote ${provisioner === 'echo' ? 'an echo' : `a ${provisioner}`} template to ${rel}: ${Object.keys(files).join(', ')}.`);
  println(io.stdout, `Publish it with: kiln templates push <name> -d ${rel}`);
  return 0;
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** examples/local-dev of this installation (beside src/ and dist/), so the example and `init` never drift apart. */
const LOCAL_EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'local-dev');
const TERRAFORM_EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'terraform-local');

async function terraformExample(): Promise<Record<string, string>> {
  return { 'main.tf': await readFile(path.join(TERRAFORM_EXAMPLE, 'main.tf'), 'utf8'), 'README.md': await readFile(path.join(TERRAFORM_EXAMPLE, 'README.md'), 'utf8') };
}

async function localExample(): Promise<Record<string, string>> {
  return { 'kiln.json': await readFile(path.join(LOCAL_EXAMPLE, 'kiln.json'), 'utf8'), 'README.md': await readFile(path.join(LOCAL_EXAMPLE, 'README.md'), 'utf8') };
}
