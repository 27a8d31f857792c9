/**
 * Workspace app URLs (Coder's subdomain scheme): an app is served on its own origin,
 * `<app>--<agent>--<workspace>--<owner>.<wildcard host>`, where the wildcard host comes from
 * `GET /api/v2/applications/host` (e.g. `*.apps.localhost:3000`). Shared by the server, the dashboard and the CLI.
 */

export interface AppHostResponse {
  /** The wildcard host apps are served under, `*.` first; empty when subdomain apps are off. */
  host: string;
}

export interface AppAddress {
  app: string;
  agent: string;
  workspace: string;
  owner: string;
}

/** The query parameter the dashboard origin hands an app token over in (Coder's name, so tools recognise it). */
export const APP_TOKEN_QUERY = 'coder_application_connect_api_key_35e783';
/** The cookie an app origin keeps its app token in; the dashboard session cookie never reaches an app origin. */
export const SUBDOMAIN_APP_COOKIE = 'coder_subdomain_app_session_token';
export const PATH_APP_COOKIE = 'coder_path_app_session_token';

/** `web--main--ws--alice`: the DNS label that names an app. Coder's names cannot hold `--`, so it splits back. */
export function appSubdomainName(a: AppAddress): string {
  return [a.app, a.agent, a.workspace, a.owner].join('--').toLowerCase();
}

/** The app's URL, or undefined when the deployment serves no subdomain apps. */
export function appSubdomainUrl(wildcardHost: string, subdomainName: string, protocol = 'http:'): string | undefined {
  if (!wildcardHost.startsWith('*.')) return undefined;
  return `${protocol}//${subdomainName}${wildcardHost.slice(1)}/`;
}

/**
 * The app a request's Host names, or undefined when it names none. A wildcard with a port matches only that port;
 * one without matches any. Comparison is case-insensitive, as DNS is.
 */
export function parseAppHost(host: string | undefined, wildcardHost: string): AppAddress | undefined {
  if (!host || !wildcardHost.startsWith('*.')) return undefined;
  let h = host.toLowerCase();
  const suffix = wildcardHost.slice(1).toLowerCase();
  if (!/:\d+$/.test(suffix)) h = h.replace(/:\d+$/, '');
  if (!h.endsWith(suffix)) return undefined;
  const label = h.slice(0, -suffix.length);
  if (!label || label.includes('.')) return undefined;
  const parts = label.split('--');
  if (parts.length !== 4 || parts.some((p) => !p)) return undefined;
  const [app, agent, workspace, owner] = parts as [string, string, string, string];
  return { app, agent, workspace, owner };
}
