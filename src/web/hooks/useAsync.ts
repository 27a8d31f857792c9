import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  /** True until the first answer or error. Later runs (reloads, new deps) keep showing the last data meanwhile. */
  loading: boolean;
  reload: () => void;
  setData: (update: (d: T) => T) => void;
}

/**
 * Runs `load` when `deps` change and on `reload()`; answers of superseded runs are dropped. Pages remount when their
 * path changes (App keys them by path), so data is only ever carried over between runs of the same page.
 */
export function useAsync<T>(load: () => Promise<T>, deps: DependencyList): AsyncState<T> {
  const [data, setDataState] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const run = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const id = ++run.current;
    loadRef.current().then(
      (d) => {
        if (id !== run.current) return;
        setDataState(d);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (id !== run.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((update: (d: T) => T) => setDataState((d) => (d === undefined ? d : update(d))), []);
  return { data, error, loading, reload, setData };
}
