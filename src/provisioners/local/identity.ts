import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readlink, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** The group every workspace uid runs with: it may connect to the agent socket and nothing else is shared. */
export const WORKSPACE_GROUP = 'kiln-workspaces';
/**
 * Workspace uids are taken from this range, far above the ids distributions hand out to users (< 60000) and to
 * subordinate-id ranges (100000 + 65536·n), so a workspace uid owns nothing on the host but its own home.
 */
export const UID_BASE = 1_600_000_000;
export const UID_RANGE = 1_000_000;

export const isRoot = () => process.getuid?.() === 0;

let group: Promise<number> | undefined;

/** The workspaces' gid (created as a system group when missing). Only meaningful when the server runs as root. */
export function workspaceGroup(): Promise<number> {
  group ??= (async () => {
    const gid = async () => Number((await execFileP('getent', ['group', WORKSPACE_GROUP])).stdout.split(':')[2]);
    try {
      return await gid();
    } catch {
      await execFileP('groupadd', ['--system', WORKSPACE_GROUP]).catch(() => {});
      return gid();
    }
  })();
  group.catch(() => (group = undefined));
  return group;
}

/**
 * The host uid of a workspace, allocated once in `<dataDir>/workspace-uids/<uid>` (a symlink naming the workspace id;
 * creating it is atomic, so two builds never share a uid). The allocation lives in the server's own directory, never
 * in the build state a user can push.
 */
export async function workspaceUid(dataDir: string, workspaceId: string): Promise<number> {
  const dir = path.join(dataDir, 'workspace-uids');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const e of await readdir(dir)) {
    if ((await readlink(path.join(dir, e)).catch(() => '')) === workspaceId) return Number(e);
  }
  const start = createHash('sha256').update(workspaceId).digest().readUInt32BE(0) % UID_RANGE;
  for (let i = 0; i < UID_RANGE; i++) {
    const uid = UID_BASE + ((start + i) % UID_RANGE);
    try {
      await symlink(workspaceId, path.join(dir, String(uid)));
      return uid;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error('no free workspace uid left');
}

/** Frees the uid of a deleted workspace (its files are gone with its directory). */
export async function releaseWorkspaceUid(dataDir: string, workspaceId: string): Promise<void> {
  const dir = path.join(dataDir, 'workspace-uids');
  for (const e of await readdir(dir).catch(() => [] as string[])) {
    if ((await readlink(path.join(dir, e)).catch(() => '')) === workspaceId) await unlink(path.join(dir, e)).catch(() => {});
  }
}
