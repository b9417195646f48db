/**
 * The service as it was at a git revision, for scripts/bench.ts --before REF: the revision's
 * files (git archive) in a directory of their own, built with this checkout's node_modules, so
 * that its POST /webhook runs in the same run, on the same machine, as the current build.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Builds REF into `dir`; returns the path of its dist/server.js. */
export function buildRevision(root: string, ref: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['-C', root, 'archive', '--format=tar', ref], {
    maxBuffer: 1 << 28,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(realpathSync(join(root, 'node_modules')), join(dir, 'node_modules'), 'dir');
  execFileSync(
    process.execPath,
    [join(dir, 'node_modules', '.bin', 'tsc'), '-p', 'tsconfig.json'],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return join(dir, 'dist', 'server.js');
}

/** The short commit id REF names, for the table. */
export function describeRevision(root: string, ref: string): string {
  return execFileSync('git', ['-C', root, 'rev-parse', '--short', ref], {
    encoding: 'utf8',
  }).trim();
}

export interface IngestRun {
  rps: number;
  p99: number;
}

/**
 * POST /webhook ingest of the current build against REF's, on fresh databases, in the order
 * before, current, current, before (so that a machine slowing down or speeding up over the
 * minute weighs on both alike); the mean rate of each, and the ratio current / before.
 */
export async function compareIngest(
  run: (server: 'current' | 'before', round: number) => Promise<IngestRun>,
): Promise<{ current: IngestRun; before: IngestRun; ratio: number }> {
  const runs: Record<'current' | 'before', IngestRun[]> = { current: [], before: [] };
  const order = ['before', 'current', 'current', 'before'] as const;
  for (const [round, server] of order.entries()) runs[server].push(await run(server, round));
  const mean = (list: IngestRun[]): IngestRun => ({
    rps: list.reduce((sum, r) => sum + r.rps, 0) / list.length,
    p99: list.reduce((sum, r) => sum + r.p99, 0) / list.length,
  });
  const current = mean(runs.current);
  const before = mean(runs.before);
  return { current, before, ratio: current.rps / before.rps };
}
