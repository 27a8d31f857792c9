/** What the local provisioner remembers from build to build, in the build's provisioner state (JSON). */
export interface LocalAgentState {
  name: string;
  /** Generated once and kept: the agent row of every build carries the same token. */
  token: string;
  /** Set while the agent runs: the pid to signal and its start time (see processes.ts). */
  pid?: number;
  start?: string;
  sandboxed?: boolean;
  log?: string;
}

export interface LocalState {
  version: 1;
  /** The workspace's directory on the host (home/, agent logs). */
  dir: string;
  home: string;
  agents: LocalAgentState[];
}

export function parseState(raw: Uint8Array): LocalState | undefined {
  if (raw.length === 0) return undefined;
  try {
    const s = JSON.parse(new TextDecoder().decode(raw)) as Partial<LocalState>;
    if (s.version !== 1 || typeof s.dir !== 'string' || typeof s.home !== 'string' || !Array.isArray(s.agents)) return undefined;
    return s as LocalState;
  } catch {
    // Not ours (a template switched provisioner, or a hand-edited state): start afresh rather than fail every build.
    return undefined;
  }
}

export function encodeState(s: LocalState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(s));
}
