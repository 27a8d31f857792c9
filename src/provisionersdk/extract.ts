import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { readTar, TarError, type TarEntry } from './tar.js';

export interface ExtractLimits {
  /** Largest single file (Coder caps each file at 10 MiB). */
  maxFileBytes?: number;
  /** Largest sum of file sizes. */
  maxTotalBytes?: number;
  maxEntries?: number;
}

export interface ExtractResult {
  files: number;
  dirs: number;
  /** Entries not written (links inside the archive, devices, fifos), with why; the daemon logs them. */
  skipped: { path: string; reason: string }[];
}

const MiB = 1024 * 1024;

/**
 * Unpacks a template archive into `dir` (which should be a fresh, empty directory). Only regular files and directories
 * are written. The whole archive is checked before anything is written, so a refused archive leaves `dir` untouched:
 * a path that escapes `dir` (absolute, or climbing out with `..`), a link whose target escapes, or a size over the caps
 * refuses the archive with a `TarError` naming the entry.
 */
export async function extractTar(data: Uint8Array, dir: string, limits: ExtractLimits = {}): Promise<ExtractResult> {
  const { plan, result } = planTar(data, limits);
  const root = path.resolve(dir);
  for (const { rel, entry } of plan) {
    const target = path.join(root, ...rel.split('/'));
    if (entry.type === 'dir') {
      await mkdir(target, { recursive: true, mode: 0o755 });
      result.dirs++;
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    // Keep the permission bits only (no setuid/setgid/sticky); mode 0 means 0600, as in Coder; the owner can always
    // read and write what it unpacked.
    const mode = ((entry.mode & 0o777) || 0o600) | 0o600;
    await writeFile(target, entry.data, { mode });
    await chmod(target, mode);
    result.files++;
  }
  return result;
}

/**
 * The archive's regular files in memory, by their normalised relative path, after the same checks as `extractTar`
 * (a refused archive throws the same `TarError`), with the same entries skipped: for a provisioner that reads the
 * template without a directory (`Provisioner.inMemory`).
 */
export function templateFiles(data: Uint8Array, limits: ExtractLimits = {}): { contents: Map<string, Uint8Array>; skipped: ExtractResult['skipped'] } {
  const { plan, result } = planTar(data, limits);
  const contents = new Map<string, Uint8Array>();
  for (const { rel, entry } of plan) if (entry.type === 'file') contents.set(rel, entry.data);
  return { contents, skipped: result.skipped };
}

function planTar(data: Uint8Array, limits: ExtractLimits): { plan: { rel: string; entry: TarEntry }[]; result: ExtractResult } {
  const maxFile = limits.maxFileBytes ?? 10 * MiB;
  const maxTotal = limits.maxTotalBytes ?? 100 * MiB;
  const maxEntries = limits.maxEntries ?? 10_000;
  const plan: { rel: string; entry: TarEntry }[] = [];
  const result: ExtractResult = { files: 0, dirs: 0, skipped: [] };
  let total = 0;
  let count = 0;
  for (const entry of readTar(data)) {
    if (++count > maxEntries) throw new TarError(`archive has more than ${maxEntries} entries`);
    const rel = safeRelative(entry.path);
    if (rel === '') continue; // the archive's root directory itself
    switch (entry.type) {
      case 'file':
        if (entry.size > maxFile) throw new TarError(`file "${entry.path}" is ${entry.size} bytes, over the ${formatBytes(maxFile)} limit per file`);
        total += entry.size;
        if (total > maxTotal) throw new TarError(`archive unpacks to more than ${formatBytes(maxTotal)}`);
        plan.push({ rel, entry });
        break;
      case 'dir':
        plan.push({ rel, entry });
        break;
      case 'symlink': {
        // A symlink's target is relative to the link's own directory.
        if (entry.linkname.startsWith('/') || escapes(path.posix.join(path.posix.dirname(rel), entry.linkname))) {
          throw new TarError(`symlink "${entry.path}" points outside the template directory ("${entry.linkname}")`);
        }
        result.skipped.push({ path: entry.path, reason: `symlink to "${entry.linkname}" not extracted` });
        break;
      }
      case 'hardlink':
        // A hard link's target is a path inside the archive.
        if (entry.linkname.startsWith('/') || escapes(entry.linkname)) {
          throw new TarError(`hard link "${entry.path}" points outside the template directory ("${entry.linkname}")`);
        }
        result.skipped.push({ path: entry.path, reason: `hard link to "${entry.linkname}" not extracted` });
        break;
      default:
        result.skipped.push({ path: entry.path, reason: `entry of type "${entry.typeflag}" not extracted (only files and directories are)` });
    }
  }
  return { plan, result };
}

/** The entry's path relative to the extraction root, normalised; refuses anything that would land outside it. */
function safeRelative(name: string): string {
  if (name.includes('\0')) throw new TarError(`entry name contains a NUL byte`);
  if (name.startsWith('/')) throw new TarError(`entry "${name}" has an absolute path`);
  const norm = path.posix.normalize(name).replace(/\/+$/, '');
  if (escapes(norm)) throw new TarError(`entry "${name}" escapes the template directory`);
  return norm === '.' ? '' : norm;
}

function escapes(p: string): boolean {
  const n = path.posix.normalize(p);
  return n === '..' || n.startsWith('../') || path.posix.isAbsolute(n);
}

function formatBytes(n: number): string {
  return n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`;
}
