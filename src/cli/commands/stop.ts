import type { CliIO } from '../io.js';
import { runTransition, transitionSpec } from '../transitions.js';

export const spec = transitionSpec('stop');

export function run(argv: string[], io: CliIO): Promise<number> {
  return runTransition(io, argv, spec, 'stop');
}
