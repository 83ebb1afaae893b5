import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from '../api.ts';

export interface Answer<T> {
  data?: T;
  /** The request's error: shown in the API's words, or as alert-rules not running. */
  error?: unknown;
  loading: boolean;
  reload(): void;
}

/** The API's answer for `path`, asked again when it changes, on reload and every `refreshMs`. */
export function useAnswer<T>(path: string, refreshMs?: number): Answer<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  // `round` changes on reload: the same path is asked again.
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    api<T>(path, { signal: controller.signal }).then(
      (data) => setState({ data, loading: false }),
      (error) => {
        if (!controller.signal.aborted) setState({ error, loading: false });
      },
    );
    return () => controller.abort();
  }, [path, round]);
  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(reload, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs, reload]);
  return { ...state, reload };
}
