import { useEffect, useRef } from 'react';

import type { Workspace } from '../sdk.js';

/**
 * Follows `GET /workspaces/{id}/watch` (Server-Sent Events: the whole workspace on every change) for each id. Browsers
 * allow few connections per server over HTTP/1.1, so callers keep the list short.
 */
export function useWorkspaceWatches(ids: string[], onData: (w: Workspace) => void): void {
  const cb = useRef(onData);
  cb.current = onData;
  const key = [...ids].sort().join(',');
  useEffect(() => {
    if (!key) return;
    const sources = key.split(',').map((id) => {
      const es = new EventSource(`/api/v2/workspaces/${encodeURIComponent(id)}/watch`);
      es.addEventListener('data', (ev) => {
        try {
          cb.current(JSON.parse((ev as MessageEvent<string>).data) as Workspace);
        } catch {
          // A malformed event is skipped; the next change brings the whole workspace again.
        }
      });
      return es;
    });
    return () => sources.forEach((es) => es.close());
  }, [key]);
}

export function useWorkspaceWatch(id: string | undefined, onData: (w: Workspace) => void): void {
  useWorkspaceWatches(id ? [id] : [], onData);
}
