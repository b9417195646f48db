/**
 * Talking to the service: every call carries the read token (when one was given) as a bearer
 * header, the event stream too (it is read with fetch, since EventSource cannot send headers).
 */

const TOKEN_KEY = 'inbox.readToken';

export interface Message {
  message_id: string;
  from: string;
  to: string;
  ts: string;
  text: string | null;
  source?: string;
  type?: string | null;
  contact_name?: string | null;
  reply_to?: string | null;
  received_at?: string;
  payload?: unknown;
}

export interface Page {
  data: Message[];
  total: number;
  next_cursor: string | null;
}

/** The service refused the token (or asked for one): the page asks the person for it. */
export class TokenNeeded extends Error {}

/** The route does not exist on this server (an older release): the page leaves that part out. */
export class NotAvailable extends Error {}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, value);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const value = token();
  return value === null ? extra : { ...extra, authorization: `Bearer ${value}` };
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { headers: headers(), signal: signal ?? null });
  if (response.status === 401) throw new TokenNeeded();
  if (response.status === 404 && !path.startsWith('/messages/')) throw new NotAvailable(path);
  // the readiness report is a 503 with a body worth showing; any other failure is an error
  const report = response.status === 503 && path.startsWith('/health/');
  if (!response.ok && !report && response.status !== 404) {
    const body = (await response.json().catch(() => ({}))) as { detail?: unknown };
    const detail = typeof body.detail === 'string' ? body.detail : `status ${response.status}`;
    throw new Error(`${path.split('?')[0]}: ${detail}`);
  }
  return (await response.json()) as T;
}

export function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export interface StreamHandlers {
  message(message: Message): void;
  /** more was missed than the server replays: reload the view */
  reset(): void;
  state(connected: boolean): void;
}

/**
 * Follows GET /events until `signal` aborts, reconnecting after a drop with Last-Event-ID so
 * that nothing stored meanwhile is lost.
 */
export async function follow(handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
  let lastId: string | null = null;
  while (!signal.aborted) {
    try {
      const response = await fetch('/events', {
        headers: headers(lastId === null ? {} : { 'last-event-id': lastId }),
        signal,
      });
      if (response.status === 401) throw new TokenNeeded();
      if (!response.ok || response.body === null) throw new Error(`events: ${response.status}`);
      handlers.state(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let data = '';
          for (const line of frame.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('id: ')) lastId = line.slice(4);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (event === 'message' && data !== '') handlers.message(JSON.parse(data) as Message);
          if (event === 'reset') handlers.reset();
          end = buffer.indexOf('\n\n');
        }
      }
    } catch (error) {
      if (error instanceof TokenNeeded) throw error;
    }
    handlers.state(false);
    if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
