import { useEffect, useRef, useState } from 'react';

/** Calls `fn` every `ms` while the page is visible; `ms` null pauses. */
export function useInterval(fn: () => void, ms: number | null): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (ms === null) return;
    const id = window.setInterval(() => {
      if (document.visibilityState === 'visible') ref.current();
    }, ms);
    return () => window.clearInterval(id);
  }, [ms]);
}

/** The current time, refreshed every `ms`: for "3m ago" and running durations. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useInterval(() => setNow(Date.now()), ms);
  return now;
}
