const TOKEN_KEY = 'lookout.token';

/** An answer of the API that was not a success, worded as the API words it. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The bearer token of this browser tab; gone when the tab closes. */
export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

const unauthorizedListeners = new Set<() => void>();

/** Called when the API refuses the token (or its absence): the console then asks for one. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function authHeaders(): Record<string, string> {
  const token = savedToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The error of an answer that is not a success; a refused token also brings up the sign-in. */
export async function failure(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: unknown };
    if (typeof body.error === 'string') message = body.error;
  } catch {
    // Not JSON: the status line says what there is to say.
  }
  if (response.status === 401) for (const listener of unauthorizedListeners) listener();
  return new ApiError(response.status, message);
}

/** GET (or another method with a JSON body) on the API, answered with its JSON. */
export async function api<T>(
  path: string,
  options: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  if (!response.ok) throw await failure(response);
  // 204 No Content (a deletion) has no JSON to read.
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** The message to show for an error of a request; an aborted request shows none. */
export function problem(err: unknown): string | undefined {
  if (err instanceof DOMException && err.name === 'AbortError') return undefined;
  if (err instanceof ApiError) return err.message;
  return `the request failed: ${(err as Error).message}`;
}
