import { useEffect, useState } from 'preact/hooks';

/**
 * The page's state lives in the URL (so a view can be shared or bookmarked):
 * `?q=&from=&since=` filter the inbox, `?thread=<sender>` shows a sender's messages,
 * `?message=<id>` one message's details, `?view=charts` the charts.
 */
export interface Route {
  q: string;
  from: string;
  since: string;
  thread: string;
  message: string;
  view: string;
}

const NAMES = ['q', 'from', 'since', 'thread', 'message', 'view'] as const;

export function readRoute(): Route {
  const params = new URLSearchParams(location.search);
  const route = {} as Route;
  for (const name of NAMES) route[name] = params.get(name) ?? '';
  return route;
}

export function hrefOf(route: Partial<Route>): string {
  const params = new URLSearchParams();
  for (const name of NAMES) {
    const value = route[name];
    if (value) params.set(name, value);
  }
  const search = params.toString();
  return search === '' ? '/' : `/?${search}`;
}

const listeners = new Set<() => void>();

export function navigate(route: Partial<Route>, replace = false): void {
  const href = hrefOf(route);
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  for (const listener of listeners) listener();
}

addEventListener('popstate', () => {
  for (const listener of listeners) listener();
});

export function useRoute(): Route {
  const [route, setRoute] = useState(readRoute);
  useEffect(() => {
    const update = () => setRoute(readRoute());
    listeners.add(update);
    return () => {
      listeners.delete(update);
    };
  }, []);
  return route;
}

/** A link that changes the view without reloading the page. */
export function onLinkClick(event: MouseEvent, route: Partial<Route>): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(route);
}

/** The first line of a text, at most `max` code points (a 4096-emoji text stays one line). */
export function firstLine(text: string | null, max = 160): string {
  if (text === null) return '';
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  const points = [...line];
  return points.length > max ? `${points.slice(0, max).join('')}…` : line;
}

/** `2025-01-15T10:00:00Z` as `2025-01-15 10:00:00 UTC`, the instant as sent. */
export function shortTime(ts: string): string {
  return `${ts.slice(0, 10)} ${ts.slice(11, 19)} UTC`;
}
