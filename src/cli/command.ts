import { formatFlags, parseFlags, UsageError, type FlagSpec, type FlagValues } from './flags.js';
import { println, type CliIO } from './io.js';

/** What `--help` shows for one command, and what its arguments are parsed with. */
export interface CommandSpec {
  /** e.g. `kiln create <name> -t <template> [flags]` */
  usage: string;
  summary: string;
  description?: string;
  examples?: { text: string; command: string }[];
  flags: FlagSpec[];
  /** Positional arguments: the fewest and the most accepted. */
  args?: { min: number; max: number };
}

export const helpFlag: FlagSpec = { name: 'help', short: 'h', type: 'boolean', description: 'Show this help' };

export function helpText(spec: CommandSpec): string {
  const parts = [`Usage: ${spec.usage}`, '', spec.summary];
  if (spec.description) parts.push('', spec.description);
  if (spec.examples?.length) {
    parts.push('', 'Examples:');
    for (const ex of spec.examples) parts.push(`  # ${ex.text}`, `  $ ${ex.command}`, '');
    parts.pop();
  }
  parts.push('', 'Flags:', formatFlags([...spec.flags, helpFlag]));
  return parts.join('\n');
}

/**
 * Parses a command's argv: prints the help and returns null for `--help`; checks the positional argument count.
 * Flags read `KILN_<FLAG>` from the command's environment where the spec says so.
 */
export function parseCommand(io: CliIO, argv: string[], spec: CommandSpec): { flags: FlagValues; args: string[] } | null {
  const { flags, args } = parseFlags(argv, [...spec.flags, helpFlag], io.env);
  if (flags.help) {
    println(io.stdout, helpText(spec));
    return null;
  }
  const { min, max } = spec.args ?? { min: 0, max: 0 };
  if (args.length < min) throw new UsageError(`expected ${min === max ? min : `at least ${min}`} argument${min === 1 ? '' : 's'}, got ${args.length}`);
  if (args.length > max) throw new UsageError(`unexpected argument "${args[max]}"`);
  return { flags, args };
}

export interface Subcommand {
  summary: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

/** A command made of subcommands (`kiln templates push`): dispatches on the first argument, lists them on --help. */
export async function dispatch(io: CliIO, argv: string[], name: string, summary: string, subs: Record<string, Subcommand>, aliases: Record<string, string> = {}): Promise<number> {
  const [sub, ...rest] = argv;
  const usage = () => {
    const w = Math.max(...Object.keys(subs).map((k) => k.length));
    return [
      `Usage: kiln ${name} <subcommand> [flags]`,
      '',
      summary,
      '',
      'Subcommands:',
      ...Object.entries(subs).map(([k, s]) => `  ${k.padEnd(w)}  ${s.summary}`),
      '',
      `Run "kiln ${name} <subcommand> --help" for a subcommand's flags.`,
    ].join('\n');
  };
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    println(sub === undefined ? io.stderr : io.stdout, usage());
    return sub === undefined ? 2 : 0;
  }
  const entry = subs[aliases[sub] ?? sub];
  if (!entry) throw new UsageError(`unknown subcommand "${sub}" (try: ${Object.keys(subs).join(', ')})`);
  return entry.run(rest, io);
}

export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function listFlag(flags: FlagValues, name: string): string[] {
  const v = flags[name];
  return Array.isArray(v) ? v : [];
}
