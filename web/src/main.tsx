import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { follow, getJson, type Message, setToken, TokenNeeded, token } from './api';
import { Charts } from './charts';
import { Details } from './details';
import { Bubble, type Live, MessageList, matches, onListKey, Row } from './inbox';
import { hrefOf, navigate, onLinkClick, type Route, readRoute, useRoute } from './route';
import './style.css';

interface Health {
  status: string;
  checks?: Record<string, string>;
  sources?: Record<string, boolean>;
}

function TokenForm({ wrong, onDone }: { wrong: boolean; onDone(): void }) {
  const [value, setValue] = useState('');
  return (
    <form
      class="token"
      onSubmit={(event) => {
        event.preventDefault();
        setToken(value.trim());
        onDone();
      }}
    >
      <h2>This inbox needs its read token</h2>
      {wrong && (
        <p role="alert" class="error">
          That token was not accepted. Check it and try again.
        </p>
      )}
      <label for="token">Read token</label>
      <input
        id="token"
        type="password"
        autocomplete="off"
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
        required
      />
      <button type="submit">Open the inbox</button>
      <p class="hint">It is kept for this tab only, and sent as a bearer token.</p>
    </form>
  );
}

function HealthBar({ health, live }: { health: Health | null; live: boolean }) {
  if (health === null) return null;
  const senders = Object.entries(health.sources ?? {})
    .filter(([, on]) => on)
    .map(([name]) => name.replace('_', ' '));
  const failing = Object.entries(health.checks ?? {}).filter(([, v]) => v !== 'ok');
  return (
    <p class="health" id="health">
      <span class={health.status === 'ok' ? 'ok' : 'bad'}>
        {health.status === 'ok'
          ? 'Ready'
          : `Not ready: ${failing.map(([k, v]) => `${k} ${v}`).join('; ')}`}
      </span>
      {' · '}
      <span>Senders: {senders.length === 0 ? 'none configured' : senders.join(', ')}</span>
      {' · '}
      <span>{live ? 'Live' : 'Reconnecting…'}</span>
    </p>
  );
}

function Filters({ route }: { route: Route }) {
  const [q, setQ] = useState(route.q);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => setQ(route.q), [route.q]);
  const set = (change: Partial<Route>) => navigate({ ...route, ...change, message: '' }, true);
  return (
    <form class="filters" aria-label="Search and filters" onSubmit={(e) => e.preventDefault()}>
      <label>
        Search
        <input
          type="search"
          name="q"
          value={q}
          onInput={(e) => {
            const value = e.currentTarget.value;
            setQ(value);
            clearTimeout(timer.current);
            timer.current = window.setTimeout(() => set({ q: value }), 100);
          }}
        />
      </label>
      <label>
        Sender
        <input
          type="tel"
          name="from"
          placeholder="+14155550100"
          value={route.from}
          onChange={(e) => set({ from: e.currentTarget.value.trim() })}
        />
      </label>
      <label>
        Since
        <input
          type="date"
          name="since"
          value={route.since}
          onChange={(e) => set({ since: e.currentTarget.value })}
        />
      </label>
    </form>
  );
}

/** New messages from GET /events, handed to whichever list is shown. */
function useLive(enabled: boolean, onError: (e: unknown) => void): Live & { connected: boolean } {
  const listeners = useMemo(() => new Set<(m: Message) => void>(), []);
  const [resets, setResets] = useState(0);
  const [connected, setConnected] = useState(false);
  // one stream per token
  useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    follow(
      {
        message: (m) => {
          // the event has the five fields: the contact and type come from the message itself
          getJson<Message>(`/messages/${encodeURIComponent(m.message_id)}`)
            .then((full) => (full.message_id === m.message_id ? full : m))
            .catch(() => m)
            .then((shown) => {
              for (const listener of listeners) listener(shown);
            });
        },
        reset: () => setResets((n) => n + 1),
        state: setConnected,
      },
      abort.signal,
    ).catch(onError);
    return () => abort.abort();
  }, [enabled]);
  return {
    connected,
    resets,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function App() {
  const route = useRoute();
  const [needToken, setNeedToken] = useState<'no' | 'ask' | 'wrong'>('no');
  const [attempt, setAttempt] = useState(0);
  const [health, setHealth] = useState<Health | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const onError = (error: unknown) => {
    if (error instanceof TokenNeeded) setNeedToken(token() === null ? 'ask' : 'wrong');
    else if (!(error instanceof DOMException && error.name === 'AbortError'))
      setFailure(String(error instanceof Error ? error.message : error));
  };
  const live = useLive(needToken === 'no', onError);
  const seen = useRef(new Map<string, Message>());
  // again after a new token
  useEffect(() => {
    getJson<Health>('/health/ready?verbose=true').then(setHealth).catch(onError);
  }, [attempt]);

  if (needToken !== 'no') {
    return (
      <main>
        <TokenForm
          wrong={needToken === 'wrong'}
          onDone={() => {
            setNeedToken('no');
            setAttempt((n) => n + 1);
          }}
        />
      </main>
    );
  }
  const remember = (m: Message) => {
    seen.current.set(m.message_id, m);
  };
  let view: preact.ComponentChildren;
  if (route.message) {
    view = <Details route={route} known={(id) => seen.current.get(id)} onError={onError} />;
  } else if (route.view === 'charts') {
    view = <Charts onError={onError} />;
  } else if (route.thread) {
    view = (
      <>
        <h2>
          Thread with <bdi>{route.thread}</bdi>
        </h2>
        <MessageList
          key={`thread${attempt}`}
          label={`Messages from ${route.thread}`}
          params={{ from: route.thread }}
          order="asc"
          accepts={(m) => m.from === route.thread}
          live={live}
          onError={onError}
          render={(m) => {
            remember(m);
            return <Bubble key={m.message_id} message={m} route={route} />;
          }}
        />
      </>
    );
  } else {
    view = (
      <>
        <Filters route={route} />
        <MessageList
          key={`inbox${attempt}`}
          label="Inbox, newest first"
          params={{
            q: route.q,
            from: route.from,
            since: route.since ? `${route.since}T00:00:00Z` : undefined,
          }}
          order="desc"
          accepts={(m) => matches(m, route)}
          live={live}
          onError={onError}
          render={(m) => {
            remember(m);
            return <Row key={m.message_id} message={m} route={route} />;
          }}
        />
      </>
    );
  }
  const tab = (name: string, to: Partial<Route>, current: boolean) => (
    <a
      href={hrefOf(to)}
      aria-current={current ? 'page' : undefined}
      onClick={(e) => onLinkClick(e, to)}
    >
      {name}
    </a>
  );
  return (
    <>
      <header>
        <h1>Inbox</h1>
        <nav aria-label="Views">
          {tab('Messages', {}, !route.view && !route.thread && !route.message)}
          {tab('Charts', { view: 'charts' }, route.view === 'charts')}
        </nav>
        <HealthBar health={health} live={live.connected} />
      </header>
      <main onKeyDown={onListKey}>
        {failure !== null && (
          <p role="alert" class="error">
            Something went wrong: {failure}
          </p>
        )}
        {view}
      </main>
    </>
  );
}

addEventListener('keydown', (event) => {
  const route = readRoute();
  if (event.key === 'Escape' && route.message) navigate({ ...route, message: '' });
});

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
