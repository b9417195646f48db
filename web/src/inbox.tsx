import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, type Message, type Page, query } from './api';
import { firstLine, hrefOf, onLinkClick, type Route, shortTime } from './route';

export interface Live {
  /** registers a callback for new messages; returns the unsubscribe function */
  subscribe(listener: (message: Message) => void): () => void;
  /** bumped when the stream says more was missed than it replays */
  resets: number;
}

interface ListProps {
  /** the API query, without cursor */
  params: Record<string, string | undefined>;
  /** whether a live message belongs in this list */
  accepts(message: Message): boolean;
  live: Live;
  onError(error: unknown): void;
  /** newest first (the inbox) or oldest first (a thread) */
  order: 'asc' | 'desc';
  label: string;
  render(message: Message, index: number): preact.ComponentChildren;
}

/** A list of messages loaded page by page through the cursor as it scrolls into view. */
export function MessageList(props: ListProps) {
  const { params, order } = props;
  const [items, setItems] = useState<Message[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const sentinel = useRef<HTMLLIElement>(null);
  const key = JSON.stringify(params);
  const generation = useRef(0);

  async function load(after: string | null) {
    const mine = generation.current;
    setLoading(true);
    try {
      const page = await getJson<Page>(
        `/messages${query({ ...params, order, limit: '50', details: 'true', cursor: after ?? undefined })}`,
      );
      if (mine !== generation.current) return;
      setItems((old) => {
        if (after === null) return page.data;
        const seen = new Set(old.map((m) => m.message_id));
        return [...old, ...page.data.filter((m) => !seen.has(m.message_id))];
      });
      setTotal(page.total);
      setCursor(page.next_cursor);
    } catch (error) {
      if (mine === generation.current) props.onError(error);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }

  // reload when the query changes
  useEffect(() => {
    generation.current++;
    setItems([]);
    setCursor(null);
    setTotal(null);
    void load(null);
  }, [key, props.live.resets]);

  // the listener reads the latest props
  useEffect(
    () =>
      props.live.subscribe((message) => {
        if (!props.accepts(message)) return;
        setItems((old) => {
          if (old.some((m) => m.message_id === message.message_id)) return old;
          setTotal((t) => (t === null ? t : t + 1));
          return order === 'desc' ? [message, ...old] : [...old, message];
        });
      }),
    [key],
  );

  // observe once per page loaded
  useEffect(() => {
    const element = sentinel.current;
    if (element === null || cursor === null) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !loading) void load(cursor);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [cursor, loading]);

  return (
    <section aria-label={props.label}>
      <p class="count" aria-live="polite">
        {total === null ? 'Loading…' : `${total} message${total === 1 ? '' : 's'}`}
      </p>
      <ol class="messages">
        {items.map((m, i) => props.render(m, i))}
        {cursor !== null && (
          <li ref={sentinel} class="more">
            <button type="button" disabled={loading} onClick={() => load(cursor)}>
              {loading ? 'Loading…' : 'Load more'}
            </button>
          </li>
        )}
      </ol>
    </section>
  );
}

/** Arrow keys (and j/k) move between the rows' links. */
export function onListKey(event: KeyboardEvent): void {
  const target = event.target as HTMLElement;
  if (!target.matches('a.open')) return;
  const down = event.key === 'ArrowDown' || event.key === 'j';
  const up = event.key === 'ArrowUp' || event.key === 'k';
  if (!down && !up) return;
  const links = [...document.querySelectorAll<HTMLAnchorElement>('ol.messages a.open')];
  const next = links[links.indexOf(target as HTMLAnchorElement) + (down ? 1 : -1)];
  if (next !== undefined) {
    event.preventDefault();
    next.focus();
  }
}

export function Row({ message, route }: { message: Message; route: Route }) {
  return (
    <li class="row" data-id={message.message_id}>
      <a
        class="open"
        href={hrefOf({ ...route, message: message.message_id })}
        onClick={(e) => onLinkClick(e, { ...route, message: message.message_id })}
      >
        <span class="who">
          <bdi class="from">{message.from}</bdi>
          {message.contact_name ? <bdi class="contact">{message.contact_name}</bdi> : null}
        </span>
        {message.type ? <span class="type">{message.type}</span> : null}
        <time dateTime={message.ts}>{shortTime(message.ts)}</time>
        <bdi class="text">{message.text === null ? '(no text)' : firstLine(message.text)}</bdi>
      </a>
      <a
        class="thread-link"
        href={hrefOf({ thread: message.from })}
        onClick={(e) => onLinkClick(e, { thread: message.from })}
      >
        Thread<span class="visually-hidden"> with {message.from}</span>
      </a>
    </li>
  );
}

export function Bubble({ message, route }: { message: Message; route: Route }) {
  return (
    <li class="bubble" data-id={message.message_id}>
      <a
        class="open"
        href={hrefOf({ ...route, message: message.message_id })}
        onClick={(e) => onLinkClick(e, { ...route, message: message.message_id })}
      >
        <bdi class="text">{message.text ?? `(${message.type ?? 'no text'})`}</bdi>
        <time dateTime={message.ts}>{shortTime(message.ts)}</time>
      </a>
    </li>
  );
}

/** Whether a live message passes the inbox filters (q approximated by lowercasing). */
export function matches(message: Message, route: Route): boolean {
  if (route.from && message.from !== route.from) return false;
  if (route.since && Date.parse(message.ts) < Date.parse(`${route.since}T00:00:00Z`)) return false;
  if (route.q && !(message.text ?? '').toLowerCase().includes(route.q.toLowerCase())) return false;
  return true;
}
