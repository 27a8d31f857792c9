import type { CliIO } from '../io.js';
import { runRestart, transitionSpec } from '../transitions.js';

export const spec = transitionSpec('restart');

export function run(argv: string[], io: CliIO): Promise<number> {
  return runRestart(io, argv, spec);
}
