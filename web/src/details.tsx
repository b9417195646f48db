import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, type Message } from './api';
import { hrefOf, onLinkClick, type Route, shortTime } from './route';

type Loaded =
  | { state: 'loading' }
  | { state: 'found'; message: Message; partial: boolean }
  | { state: 'missing' };

/**
 * One message: GET /messages/{id}. The payload is shown as pretty-printed JSON text, never as
 * HTML. A server without that route (an older release) gets the list's fields instead.
 */
export function Details(props: {
  route: Route;
  known: (id: string) => Message | undefined;
  onError(error: unknown): void;
}) {
  const { route } = props;
  const id = route.message;
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const back = useRef<HTMLAnchorElement>(null);

  // load once per id
  useEffect(() => {
    setLoaded({ state: 'loading' });
    back.current?.focus();
    getJson<Message & { detail?: string }>(`/messages/${encodeURIComponent(id)}`)
      .then((body) => {
        if (body.detail === undefined) setLoaded({ state: 'found', message: body, partial: false });
        else {
          const known = body.detail === 'message not found' ? undefined : props.known(id);
          setLoaded(
            known === undefined
              ? { state: 'missing' }
              : { state: 'found', message: known, partial: true },
          );
        }
      })
      .catch(props.onError);
  }, [id]);

  const up = { ...route, message: '' };
  return (
    <section class="details" aria-labelledby="details-title">
      <a ref={back} class="back" href={hrefOf(up)} onClick={(e) => onLinkClick(e, up)}>
        ← Back
      </a>
      <h2 id="details-title">Message</h2>
      {loaded.state === 'loading' && <p>Loading…</p>}
      {loaded.state === 'missing' && <p role="alert">This message is not stored.</p>}
      {loaded.state === 'found' && <Fields message={loaded.message} partial={loaded.partial} />}
    </section>
  );
}

function Fields({ message, partial }: { message: Message; partial: boolean }) {
  const replyTo = message.reply_to;
  const payload = message.payload === undefined ? null : JSON.stringify(message.payload, null, 2);
  return (
    <>
      <dl>
        <dt>Id</dt>
        <dd>
          <bdi>{message.message_id}</bdi>
        </dd>
        <dt>From</dt>
        <dd>
          <a
            href={hrefOf({ thread: message.from })}
            onClick={(e) => onLinkClick(e, { thread: message.from })}
          >
            {message.from}
          </a>
          {message.contact_name ? (
            <>
              {' '}
              (<bdi>{message.contact_name}</bdi>)
            </>
          ) : null}
        </dd>
        <dt>To</dt>
        <dd>{message.to}</dd>
        <dt>Type</dt>
        <dd>{message.type ?? (message.source === 'whatsapp' ? 'unknown' : 'webhook message')}</dd>
        <dt>Sent</dt>
        <dd>
          <time dateTime={message.ts}>{shortTime(message.ts)}</time>
        </dd>
        {message.received_at ? (
          <>
            <dt>Received</dt>
            <dd>
              <time dateTime={message.received_at}>{shortTime(message.received_at)}</time>
            </dd>
          </>
        ) : null}
        {replyTo ? (
          <>
            <dt>Reply to</dt>
            <dd>
              <a
                class="reply-to"
                href={hrefOf({ message: replyTo })}
                onClick={(e) => onLinkClick(e, { message: replyTo })}
              >
                <bdi>{replyTo}</bdi>
              </a>
            </dd>
          </>
        ) : null}
      </dl>
      <h3>Text</h3>
      <p class="full-text">
        <bdi>{message.text ?? '(no text)'}</bdi>
      </p>
      <h3>As received</h3>
      {payload === null ? (
        <p>{partial ? 'This server does not keep what was received.' : '(nothing kept)'}</p>
      ) : (
        <pre class="payload">{payload}</pre>
      )}
    </>
  );
}
