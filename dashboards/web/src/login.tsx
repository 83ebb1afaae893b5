import { useState } from 'preact/hooks';
import { api, problem, saveToken } from './api.ts';

/** Asks for a bearer token when the API wants one; it is kept for this tab only. */
export function Login({ onDone }: { onDone: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const submit = async (event: Event) => {
    event.preventDefault();
    saveToken(token.trim());
    try {
      await api('/api/whoami');
      onDone();
    } catch (err) {
      saveToken(null);
      setError(problem(err));
    }
  };
  return (
    <form class="login" onSubmit={submit}>
      <h1>Sign in</h1>
      <p>This Lookout asks for a token. It is kept in this browser tab only, until the tab is closed.</p>
      <label>
        Token
        <input
          type="password"
          autocomplete="current-password"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          required
        />
      </label>
      <button type="submit">Sign in</button>
      {error && <p class="error">{error}</p>}
    </form>
  );
}
