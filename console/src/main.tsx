/**
 * The console's shell: asks for the token when the agent wants one (once per tab: it is kept
 * in sessionStorage), then shows the page the address names.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, messageOf, onUnauthorized, setToken, token } from './api.js';
import { AlertsPage } from './pages/Alerts.js';
import { ContainersPage } from './pages/Containers.js';
import { EventsPage } from './pages/Events.js';
import { HealthPage } from './pages/Health.js';
import { TrackersPage } from './pages/Trackers.js';
import { hrefOf, PAGES, useRoute, type Page } from './route.js';

const TITLES: Record<Page, string> = { events: 'Live events', alerts: 'Alerts', containers: 'Containers', trackers: 'Trackers', health: 'Health' };

type Auth = { state: 'checking' } | { state: 'ok'; version: string } | { state: 'needed'; message?: string } | { state: 'down'; message: string };

function TokenPrompt({ message, onToken }: { message?: string; onToken(t: string): void }) {
  const [value, setValue] = useState('');
  return (
    <div class="token-prompt">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onToken(value.trim());
        }}
      >
        <h2>This agent needs its API token</h2>
        <p class="muted">It is kept in this tab only (sessionStorage) and sent as an Authorization header with each request.</p>
        {message ? <p class="error">{message}</p> : null}
        <input name="token" type="password" autocomplete="off" placeholder="token" value={value} onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)} />
        <button type="submit">Open</button>
      </form>
    </div>
  );
}

function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<Auth>({ state: 'checking' });

  const check = async (): Promise<void> => {
    const sent = token() !== null;
    try {
      const s = await api<{ version: string }>('/status');
      setAuth({ state: 'ok', version: s.version });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setAuth({ state: 'needed', ...(sent ? { message: 'the agent refused this token' } : {}) });
      else setAuth({ state: 'down', message: messageOf(e) });
    }
  };
  useEffect(() => {
    void check();
    // Any 401 (the pages' requests too): the prompt replaces the pages, which start anew after it.
    return onUnauthorized(() => {
      const had = token() !== null;
      setToken(null);
      setAuth({ state: 'needed', ...(had ? { message: 'the agent refused the token' } : {}) });
    });
  }, []);
  useEffect(() => {
    document.title = `${TITLES[route.page]} · Eunomia`;
  }, [route.page]);

  // While the first answer is awaited the page already opens its streams: a 401 brings the prompt.
  if (auth.state === 'needed') {
    return (
      <TokenPrompt
        {...(auth.message ? { message: auth.message } : {})}
        onToken={(t) => {
          setToken(t);
          void check();
        }}
      />
    );
  }
  return (
    <>
      <header class="top">
        <span class="brand">Eunomia</span>
        <nav>
          {PAGES.map((p) => (
            <a key={p} href={hrefOf(p)} class={p === route.page ? 'active' : ''} data-page={p}>
              {TITLES[p]}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        {auth.state === 'ok' ? <span class="muted">agent {auth.version}</span> : auth.state === 'down' ? <span class="error">the agent does not answer: {auth.message}</span> : null}
        {token() ? (
          <button
            type="button"
            class="link"
            onClick={() => {
              setToken(null);
              setAuth({ state: 'needed' });
            }}
          >
            forget token
          </button>
        ) : null}
      </header>
      <main>
        {route.page === 'events' ? <EventsPage params={route.params} /> : null}
        {route.page === 'alerts' ? <AlertsPage params={route.params} /> : null}
        {route.page === 'containers' ? <ContainersPage params={route.params} /> : null}
        {route.page === 'trackers' ? <TrackersPage /> : null}
        {route.page === 'health' ? <HealthPage /> : null}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
