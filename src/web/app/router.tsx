import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/**
 * A small history-based router: real URLs (reload and share work, the server answers every page path with
 * index.html), `navigate()` for code, `<Link>` for markup, and `matchPath()` for the route table.
 */

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
window.addEventListener('popstate', notify);

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

const snapshot = () => window.location.pathname + window.location.search;

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else {
    window.history.pushState(null, '', to);
    window.scrollTo(0, 0);
  }
  notify();
}

export interface Location {
  pathname: string;
  search: URLSearchParams;
  href: string;
}

export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, window.location.origin);
  return { pathname: url.pathname, search: url.searchParams, href };
}

/**
 * `/@:owner/:workspace/builds/:number` matches `/@alice/dev/builds/3` as `{owner: 'alice', workspace: 'dev', number: '3'}`.
 * A pattern segment may have a literal prefix before its `:name`.
 */
export function matchPath(pattern: string, pathname: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = pathname.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const h = have[i]!;
    const colon = w.indexOf(':');
    if (colon < 0) {
      if (w !== h) return null;
      continue;
    }
    const prefix = w.slice(0, colon);
    if (!h.startsWith(prefix) || h.length === prefix.length) return null;
    try {
      params[w.slice(colon + 1)] = decodeURIComponent(h.slice(prefix.length));
    } catch {
      return null;
    }
  }
  return params;
}

/** Paths of the dashboard, in one place. */
export const paths = {
  workspaces: (filter?: string) => (filter ? `/workspaces?filter=${encodeURIComponent(filter)}` : '/workspaces'),
  newWorkspace: (template?: string) => (template ? `/workspaces/new?template=${encodeURIComponent(template)}` : '/workspaces/new'),
  workspace: (owner: string, name: string) => `/@${encodeURIComponent(owner)}/${encodeURIComponent(name)}`,
  build: (owner: string, name: string, n: number) => `/@${encodeURIComponent(owner)}/${encodeURIComponent(name)}/builds/${n}`,
  /** Coder's form: `/@owner/workspace.agent/terminal`. */
  terminal: (owner: string, name: string, agent: string) => `/@${encodeURIComponent(owner)}/${encodeURIComponent(name)}.${encodeURIComponent(agent)}/terminal`,
  templates: () => '/templates',
  template: (name: string) => `/templates/${encodeURIComponent(name)}`,
  provisioners: () => '/provisioners',
  login: (redirect?: string) => (redirect && redirect !== '/' ? `/login?redirect=${encodeURIComponent(redirect)}` : '/login'),
  setup: () => '/setup',
};

export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handle} {...rest} />;
}
