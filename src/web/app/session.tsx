import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';

import { client } from '../lib/client.js';
import { navigate, paths } from './router.js';
import { isSdkError, type User } from '../sdk.js';

/** Who is signed in, found by asking the server (the session cookie is HttpOnly: the page cannot read it). */
export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out'; hasFirstUser: boolean }
  | { status: 'signed-in'; user: User; organizationId: string }
  | { status: 'error'; error: unknown };

interface SessionApi {
  state: SessionState;
  refresh: () => Promise<void>;
  signIn: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

async function readSession(): Promise<SessionState> {
  try {
    const user = await client.me();
    let organizationId = user.organization_ids[0];
    if (!organizationId) organizationId = (await client.userOrganizations())[0]?.id;
    if (!organizationId) throw new Error('Your user belongs to no organization.');
    return { status: 'signed-in', user, organizationId };
  } catch (e) {
    if (isSdkError(e, 401)) return { status: 'signed-out', hasFirstUser: await client.hasFirstUser() };
    throw e;
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });

  const refresh = useCallback(async () => {
    try {
      setState(await readSession());
    } catch (error) {
      setState({ status: 'error', error });
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      await client.login(email, password);
      await refresh();
    },
    [refresh],
  );

  const signOut = useCallback(async () => {
    try {
      await client.logout();
    } finally {
      client.setToken(undefined);
      // Signing out is not an expired session: no "come back here" redirect.
      navigate(paths.login(), { replace: true });
      setState({ status: 'signed-out', hasFirstUser: true });
    }
  }, []);

  return <SessionContext.Provider value={{ state, refresh, signIn, signOut }}>{children}</SessionContext.Provider>;
}

export function useSessionApi(): SessionApi {
  const api = useContext(SessionContext);
  if (!api) throw new Error('useSessionApi outside SessionProvider');
  return api;
}

/** The signed-in user; only pages behind the sign-in gate call it. */
export function useSession(): { user: User; organizationId: string } {
  const { state } = useSessionApi();
  if (state.status !== 'signed-in') throw new Error('useSession while not signed in');
  return state;
}
