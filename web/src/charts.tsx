import { useEffect, useState } from 'preact/hooks';
import { getJson, NotAvailable } from './api';

interface Bar {
  label: string;
  value: number;
}

type Data<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'absent' };

function useData<T>(path: string, onError: (error: unknown) => void): Data<T> {
  const [data, setData] = useState<Data<T>>({ state: 'loading' });
  // load once per path
  useEffect(() => {
    getJson<T>(path)
      .then((value) => setData({ state: 'ready', value }))
      .catch((error) => {
        if (error instanceof NotAvailable) setData({ state: 'absent' });
        else onError(error);
      });
  }, [path]);
  return data;
}

/**
 * A bar chart drawn as SVG (no library: a few bars need no more), with its figures as a table
 * for screen readers and for anyone who wants the numbers.
 */
/** Room under a day chart for its first and last day. */
const AXIS = 18;

function BarChart(props: { id: string; title: string; bars: Bar[]; vertical: boolean }) {
  const { bars, vertical } = props;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const width = 600;
  const rowHeight = 22;
  const height = vertical ? 200 : Math.max(rowHeight, bars.length * rowHeight);
  const slot = vertical ? width / Math.max(1, bars.length) : rowHeight;
  const summary =
    bars.length === 0
      ? `${props.title}: nothing yet`
      : `${props.title}: ${bars.length} bars, largest ${max}`;
  return (
    <figure class="chart" id={props.id}>
      <figcaption>{props.title}</figcaption>
      {bars.length === 0 ? (
        <p>Nothing to show yet.</p>
      ) : (
        <svg
          viewBox={`0 0 ${width} ${height + (vertical ? AXIS : 0)}`}
          role="img"
          aria-label={summary}
        >
          {vertical && (
            <g class="axis">
              <text x="0" y={height + 14}>
                {bars[0]?.label}
              </text>
              <text x={width} y={height + 14} text-anchor="end">
                {bars.at(-1)?.label}
              </text>
            </g>
          )}
          {bars.map((bar, i) => {
            const size = (bar.value / max) * (vertical ? height - 4 : width - 180);
            return vertical ? (
              <rect
                key={bar.label}
                class="bar"
                x={i * slot + slot * 0.1}
                y={height - size}
                width={slot * 0.8}
                height={size}
              >
                <title>{`${bar.label}: ${bar.value}`}</title>
              </rect>
            ) : (
              <g key={bar.label}>
                <text x="0" y={i * rowHeight + 15} class="label">
                  {bar.label}
                </text>
                <rect class="bar" x="170" y={i * rowHeight + 3} width={size} height={rowHeight - 6}>
                  <title>{`${bar.label}: ${bar.value}`}</title>
                </rect>
              </g>
            );
          })}
        </svg>
      )}
      <details>
        <summary>Figures of “{props.title}”</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{vertical ? 'Day' : 'Name'}</th>
              <th scope="col">Count</th>
            </tr>
          </thead>
          <tbody>
            {bars.map((bar) => (
              <tr key={bar.label}>
                <th scope="row">{bar.label}</th>
                <td>{bar.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

function Absent({ title }: { title: string }) {
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <p>This server does not offer this figure yet.</p>
    </figure>
  );
}

export function Charts({ onError }: { onError(error: unknown): void }) {
  const daily = useData<{ days: { day: string; count: number }[] }>(
    '/stats/daily?days=30',
    onError,
  );
  const stats = useData<{ messages_per_sender: { from: string; count: number }[] }>(
    '/stats',
    onError,
  );
  const statuses = useData<{ by_status: Record<string, number> }>('/stats/statuses', onError);
  const funnel = ['sent', 'delivered', 'read', 'failed'];
  return (
    <section class="charts" aria-label="Charts">
      {daily.state === 'ready' ? (
        <BarChart
          id="chart-daily"
          title="Messages per day"
          vertical
          bars={daily.value.days.map((d) => ({ label: d.day, value: d.count }))}
        />
      ) : daily.state === 'absent' ? (
        <Absent title="Messages per day" />
      ) : null}
      {stats.state === 'ready' ? (
        <BarChart
          id="chart-senders"
          title="Top senders"
          vertical={false}
          bars={stats.value.messages_per_sender.map((s) => ({ label: s.from, value: s.count }))}
        />
      ) : null}
      {statuses.state === 'ready' ? (
        <BarChart
          id="chart-statuses"
          title="Delivery statuses"
          vertical={false}
          bars={[
            ...funnel.map((name) => ({ label: name, value: statuses.value.by_status[name] ?? 0 })),
            ...Object.entries(statuses.value.by_status)
              .filter(([name]) => !funnel.includes(name))
              .map(([label, value]) => ({ label, value })),
          ]}
        />
      ) : statuses.state === 'absent' ? (
        <Absent title="Delivery statuses" />
      ) : null}
    </section>
  );
}
