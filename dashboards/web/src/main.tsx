import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { onUnauthorized } from './api.ts';
import { EventsPage } from './events/events-page.tsx';
import { Login } from './login.tsx';
import { ContextPage } from './logs/context-page.tsx';
import { LogsPage } from './logs/logs-page.tsx';
import { linkHandler, navigate, useLocation } from './router.ts';
import './style.css';

const SECTIONS = [
  { path: '/logs', title: 'Logs' },
  { path: '/events', title: 'Events' },
];

function App() {
  const url = useLocation();
  const [loginNeeded, setLoginNeeded] = useState(false);
  useEffect(() => onUnauthorized(() => setLoginNeeded(true)), []);
  useEffect(() => {
    if (url.pathname === '/') navigate('/logs', { replace: true });
  }, [url.pathname]);

  let page = <p class="empty">No page at {url.pathname}.</p>;
  const context = /^\/logs\/context\/([^/]+)$/.exec(url.pathname);
  if (context) page = <ContextPage id={decodeURIComponent(context[1]!)} url={url} />;
  else if (url.pathname === '/logs') page = <LogsPage url={url} />;
  else if (url.pathname === '/events') page = <EventsPage url={url} />;

  return (
    <>
      <header class="top">
        <a class="brand" href="/logs" onClick={linkHandler('/logs')}>
          Lookout
        </a>
        <nav>
          {SECTIONS.map((s) => (
            <a
              key={s.path}
              href={s.path}
              class={url.pathname.startsWith(s.path) ? 'active' : ''}
              onClick={linkHandler(s.path)}
            >
              {s.title}
            </a>
          ))}
        </nav>
      </header>
      {loginNeeded ? <Login onDone={() => setLoginNeeded(false)} /> : <main>{page}</main>}
    </>
  );
}

render(<App />, document.getElementById('app')!);
