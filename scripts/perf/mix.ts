/**
 * Replays GET /messages paths (one per line, as ../../../shared/bench/gen.py queries writes
 * them) with C concurrent clients for D seconds, and prints latency per query kind, for the first
 * request of each distinct filter (cold: its search total is not kept yet) and the others:
 *   node --import tsx scripts/perf/mix.ts http://127.0.0.1:18500 paths.txt [C=50] [D=10]
 */
import { readFileSync } from 'node:fs';

const [base, file, c = '50', d = '10'] = process.argv.slice(2);
if (base === undefined || file === undefined) throw new Error('usage: mix.ts BASE PATHS [C] [D]');
const paths = readFileSync(file, 'utf8').split('\n').filter(Boolean);
const seen = new Set<string>();
const latencies = new Map<string, number[]>();
let failures = 0;
let next = 0;
const end = Date.now() + Number(d) * 1000;

function kind(path: string): { kind: string; key: string } {
  const params = new URL(path, 'http://x').searchParams;
  const names = ['from', 'since', 'q'].filter((name) => params.has(name));
  const key = names.map((name) => `${name}=${params.get(name)}`).join('&');
  return { kind: names.join('+') || 'none', key };
}

async function client(): Promise<void> {
  while (Date.now() < end) {
    const path = paths[next++ % paths.length] as string;
    const { kind: name, key } = kind(path);
    const cold = name.includes('q') && !seen.has(key);
    seen.add(key);
    const start = performance.now();
    const response = await fetch(base + path);
    await response.arrayBuffer();
    const ms = performance.now() - start;
    if (response.status < 200 || response.status > 299) failures++;
    const label = `${name}${name.includes('q') ? (cold ? ' cold' : ' kept') : ''}`;
    const list = latencies.get(label) ?? [];
    list.push(ms);
    latencies.set(label, list);
  }
}

await Promise.all(Array.from({ length: Number(c) }, client));
const pick = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
for (const [label, list] of [...latencies].sort()) {
  list.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(18)} n=${String(list.length).padEnd(6)} p50=${pick(list, 0.5).toFixed(1).padStart(7)} ms  p99=${pick(list, 0.99).toFixed(1).padStart(7)} ms  max=${pick(list, 1).toFixed(1).padStart(7)} ms`,
  );
}
console.log(`non-2xx ${failures}`);
