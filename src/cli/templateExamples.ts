/**
 * The example templates `kiln templates init` writes and `kiln server --dev` installs. Echo templates replay scripts
 * (docs: the echo provisioner), so they build anywhere, in well under a second, and show every part of a build:
 * stages, live log lines, resources with an agent and an app, and state carried from build to build.
 */

const resources = (running: boolean) => [
  {
    name: 'dev',
    type: 'echo_container',
    metadata: [
      { key: 'image', value: 'debian:bookworm' },
      { key: 'state', value: running ? 'running' : 'stopped' },
    ],
    agents: running
      ? [
          {
            name: 'main',
            operating_system: 'linux',
            architecture: 'amd64',
            directory: '/home/dev',
            apps: [{ slug: 'code', display_name: 'VS Code', url: 'http://localhost:8080', sharing_level: 'owner' }],
          },
        ]
      : [],
  },
  { name: 'home', type: 'echo_volume', metadata: [{ key: 'size', value: '10Gi' }] },
];

/** echo.json of the example: a start that takes about a second, line by line, so the streaming is visible. */
export function echoExample(): Record<string, unknown> {
  return {
    import: {
      logs: [{ output: 'Reading echo.json' }],
      resources: resources(true),
    },
    start: {
      delay_ms: 150,
      echo_state: true,
      logs: [
        { output: 'Pulling image debian:bookworm' },
        { output: 'Creating volume home (10Gi)' },
        { output: 'Starting container dev' },
        { output: 'Container dev is running' },
      ],
      resources: resources(true),
      state: 'container=dev volume=home running',
    },
    stop: {
      delay_ms: 100,
      echo_state: true,
      logs: [{ output: 'Stopping container dev' }, { output: 'Container dev stopped; volume home kept' }],
      resources: resources(false),
      state: 'container=dev volume=home stopped',
    },
    delete: {
      delay_ms: 100,
      logs: [{ output: 'Removing container dev' }, { output: 'Removing volume home' }],
    },
  };
}

export const ECHO_README = `# An echo template

kiln's \`echo\` provisioner builds nothing: it replays the scripts in \`echo.json\`, one per phase (\`import\`,
\`start\`, \`stop\`, \`delete\`). Each script may log lines (\`logs\`, with \`delay_ms\` between them), report
\`resources\` (with agents and apps), set the next \`state\`, or fail with an \`error\`.

Edit echo.json, then publish it:

    kiln templates push <name> -d .
    kiln create my-workspace -t <name>
`;
