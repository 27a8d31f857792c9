import { dispatch } from '../command.js';
import type { CliIO } from '../io.js';

/** `kiln templates …`: each subcommand lives in its own module, loaded only when used. */
export function run(argv: string[], io: CliIO): Promise<number> {
  return dispatch(
    io,
    argv,
    'templates',
    'Write, publish and list templates',
    {
      init: { summary: 'Write an example template into a directory', run: async (a, i) => (await import('./templatesInit.js')).run(a, i) },
      push: { summary: 'Create a template from a directory, or publish a new version of it', run: async (a, i) => (await import('./templatesPush.js')).run(a, i) },
      list: { summary: 'List the templates of your organization', run: async (a, i) => (await import('./templatesList.js')).run(a, i) },
      versions: { summary: 'List the versions of a template (versions list <template>)', run: async (a, i) => (await import('./templatesVersions.js')).run(a, i) },
    },
    { ls: 'list' },
  );
}
