import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AlertsPage } from './alerts/alerts-page.tsx';
import { SilencesPage } from './alerts/silences-page.tsx';
import { onUnauthorized } from './api.ts';
import { EventsPage } from './events/events-page.tsx';
import { Login } from './login.tsx';
import { ContextPage } from './logs/context-page.tsx';
import { LogsPage } from './logs/logs-page.tsx';
import { ProbesPage } from './probes/probes-page.tsx';
import { linkHandler, navigate, useLocation } from './router.ts';
import { StatusPage } from './status/status-page.tsx';
import './style.css';

const SECTIONS = [
  { path: '/logs', title: 'Logs' },
  { path: '/events', title: 'Events' },
  { path: '/alerts', title: 'Alerts' },
  { path: '/silences', title: 'Silences' },
  { path: '/probes', title: 'Probes' },
  { path: '/status', title: 'Status' },
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
  else if (url.pathname === '/alerts') page = <AlertsPage url={url} />;
  else if (url.pathname === '/silences') page = <SilencesPage url={url} />;
  else if (/^\/probes(\/|$)/.test(url.pathname)) page = <ProbesPage url={url} />;
  else if (url.pathname === '/status') page = <StatusPage />;
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
