import type { ReactNode } from 'react';

import { Link, paths, useLocation } from './router.js';
import { useSession, useSessionApi } from './session.js';

const NAV = [
  { label: 'Workspaces', to: paths.workspaces(), prefixes: ['/workspaces', '/@'] },
  { label: 'Templates', to: paths.templates(), prefixes: ['/templates'] },
  { label: 'Provisioners', to: paths.provisioners(), prefixes: ['/provisioners'] },
];

export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
      <path d="M4 20h16v2H4zM6 10a6 6 0 0 1 12 0v8H6z" fill="currentColor" opacity=".18" />
      <path d="M12 5c2 2.6 3.5 4.3 3.5 7a3.5 3.5 0 0 1-7 0c0-1.5.7-2.6 1.7-3.6.2 1.2.8 2 1.6 2.3-.4-2 0-3.7.2-5.7z" fill="currentColor" />
    </svg>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { pathname } = useLocation();
  const { user } = useSession();
  const { signOut } = useSessionApi();
  return (
    <div className="shell">
      <header className="topbar">
        <Link to={paths.workspaces()} className="brand">
          <Logo />
          <span>kiln</span>
        </Link>
        <nav className="nav">
          {NAV.map((n) => (
            <Link key={n.to} to={n.to} className={n.prefixes.some((p) => pathname.startsWith(p)) ? 'nav-link nav-link-active' : 'nav-link'}>
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="topbar-user">
          <span className="user-name" data-testid="current-user">
            {user.username}
          </span>
          <button type="button" className="btn btn-ghost btn-small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main className="main">{children}</main>
    </div>
  );
}
