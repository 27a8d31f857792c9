import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { KilnClient } from '../sdk/client.js';

import { CliError } from './errors.js';
import type { CliIO } from './io.js';

/** What `kiln login` remembers: one server and one token. */
export interface Session {
  url: string;
  token: string;
}

/** `$XDG_CONFIG_HOME/kiln`, else `~/.config/kiln` (as most Linux CLIs, and what users will look for). */
export function configDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  const home = env.HOME || os.homedir();
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.config'), 'kiln');
}

export function sessionPath(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), 'session.json');
}

export async function readSession(env: NodeJS.ProcessEnv): Promise<Session | undefined> {
  let text: string;
  try {
    text = await readFile(sessionPath(env), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const s = JSON.parse(text) as Partial<Session>;
    if (typeof s.url === 'string' && typeof s.token === 'string') return { url: s.url, token: s.token };
  } catch {
    // Fall through: a damaged file reads as "not logged in", and the next login overwrites it.
  }
  return undefined;
}

/**
 * Writes the session readable by its owner only (the token is a password): the file is created 0600 in a 0700
 * directory and renamed into place, so no other user ever sees it, not even half-written.
 */
export async function writeSession(env: NodeJS.ProcessEnv, session: Session): Promise<string> {
  const dir = configDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = sessionPath(env);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(session, null, 2) + '\n', { mode: 0o600 });
  // The umask cannot widen 0600, but a pre-existing tmp file keeps its mode: set it explicitly.
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

export async function removeSession(env: NodeJS.ProcessEnv): Promise<boolean> {
  const file = sessionPath(env);
  try {
    await rm(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export interface Connection {
  client: KilnClient;
  url: string;
}

/** `KILN_URL` / `KILN_SESSION_TOKEN` win over the saved session, so scripts and CI need no login step. */
export async function connect(io: CliIO): Promise<Connection> {
  const saved = await readSession(io.env);
  const url = io.env.KILN_URL || saved?.url;
  const token = io.env.KILN_SESSION_TOKEN || (saved && (!io.env.KILN_URL || sameServer(saved.url, io.env.KILN_URL)) ? saved.token : undefined);
  if (!url || !token) {
    throw new CliError('you are not logged in.', 'Run "kiln login <url>" first, or set KILN_URL and KILN_SESSION_TOKEN.');
  }
  return { client: new KilnClient(url, { token }), url };
}

export function sameServer(a: string, b: string): boolean {
  return normalizeUrl(a) === normalizeUrl(b);
}

export function normalizeUrl(raw: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new CliError(`"${raw}" is not a URL.`);
  }
  return u.href.replace(/\/+$/, '');
}
