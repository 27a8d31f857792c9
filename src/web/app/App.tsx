import { lazy, Suspense, useEffect, type ReactNode } from 'react';

import { ErrorBanner } from '../components/ErrorBanner.js';
import { ErrorBoundary } from '../components/ErrorBoundary.js';
import { Loading } from '../components/Loading.js';
import { BuildPage } from '../pages/BuildPage.js';
import { CreateWorkspacePage } from '../pages/CreateWorkspacePage.js';
import { LoginPage } from '../pages/LoginPage.js';
import { NotFoundPage } from '../pages/NotFoundPage.js';
import { ProvisionersPage } from '../pages/ProvisionersPage.js';
import { SetupPage } from '../pages/SetupPage.js';
import { TemplatePage } from '../pages/TemplatePage.js';
import { TemplatesPage } from '../pages/TemplatesPage.js';
import { WorkspacePage } from '../pages/WorkspacePage.js';
import { WorkspacesPage } from '../pages/WorkspacesPage.js';

import { Layout } from './Layout.js';
import { matchPath, navigate, paths, useLocation } from './router.js';
import { useSessionApi } from './session.js';

type Params = Record<string, string>;

/** The terminal (xterm.js) loads only when opened: most visits never need it. */
const TerminalPage = lazy(() => import('../pages/TerminalPage.js').then((m) => ({ default: m.TerminalPage })));

/** Pages behind the sign-in gate, most specific first. */
const ROUTES: { pattern: string; render: (p: Params) => ReactNode }[] = [
  { pattern: '/workspaces', render: () => <WorkspacesPage /> },
  { pattern: '/workspaces/new', render: () => <CreateWorkspacePage /> },
  { pattern: '/@:owner/:workspace', render: (p) => <WorkspacePage owner={p.owner!} name={p.workspace!} /> },
  { pattern: '/@:owner/:target/terminal', render: (p) => (
      <Suspense fallback={<Loading label="Loading terminal…" />}>
        <TerminalPage owner={p.owner!} target={p.target!} />
      </Suspense>
    ),
  },
  { pattern: '/@:owner/:workspace/builds/:number', render: (p) => <BuildPage owner={p.owner!} name={p.workspace!} number={p.number!} /> },
  { pattern: '/templates', render: () => <TemplatesPage /> },
  { pattern: '/templates/:template', render: (p) => <TemplatePage name={p.template!} /> },
  { pattern: '/provisioners', render: () => <ProvisionersPage /> },
];

function Redirect({ to }: { to: string }) {
  // A server route (the app login's auth redirect) needs a real page load, not a client-side route.
  useEffect(() => (to.startsWith('/api/') ? window.location.replace(to) : navigate(to, { replace: true })), [to]);
  return null;
}

/** Only paths of this dashboard: a crafted link must not send a user elsewhere after sign-in. */
function safeRedirect(to: string | null): string {
  return to && to.startsWith('/') && !to.startsWith('//') && !to.startsWith('/\\') ? to : paths.workspaces();
}

function routeFor(pathname: string): ReactNode {
  if (pathname === '/') return <Redirect to={paths.workspaces()} />;
  for (const r of ROUTES) {
    const params = matchPath(r.pattern, pathname);
    if (params) return r.render(params);
  }
  return <NotFoundPage />;
}

export function App() {
  const { state, refresh } = useSessionApi();
  const { pathname, search, href } = useLocation();
  const publicPage = pathname === '/login' || pathname === '/setup';

  if (state.status === 'loading') return <Loading label="Connecting to kiln…" />;
  if (state.status === 'error') {
    return (
      <div className="auth-page">
        <ErrorBanner title="kiln could not load your session." error={state.error} onRetry={() => void refresh()} />
      </div>
    );
  }
  if (state.status === 'signed-out') {
    if (!state.hasFirstUser) return pathname === '/setup' ? <SetupPage /> : <Redirect to={paths.setup()} />;
    if (pathname === '/login') return <LoginPage />;
    return <Redirect to={paths.login(publicPage ? undefined : href)} />;
  }
  if (publicPage) return <Redirect to={safeRedirect(search.get('redirect'))} />;
  return (
    <Layout>
      <ErrorBoundary resetKey={pathname} key={pathname}>
        {routeFor(pathname)}
      </ErrorBoundary>
    </Layout>
  );
}
