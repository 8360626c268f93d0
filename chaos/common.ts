/**
 * What the chaos scenarios share: a database per scenario in the throwaway cluster, the
 * wait for a run to finish (with what is left when it does not), and the one line of
 * figures each scenario prints.
 */
import postgres from 'postgres';
import { openStore, type Store } from '../src/db/client.ts';
import { waitFor } from '../test/helpers/wait.ts';
import { clean, unfinished, type Figures } from './checks.ts';
import type { Input } from './tree.ts';

/** `watch` flags for every chaos run: short settle and scans, a short lease, no HTTP (a run may add its own later). */
export const WATCH_FLAGS = [
  '--settle-ms',
  '200',
  '--scan-interval-ms',
  '2000',
  '--concurrency',
  '2',
  '--lease-ms',
  '5000',
  '--http',
  'off',
];

export interface ScenarioResult {
  title: string;
  figures: Figures;
  wallS: number;
  /** Scenario-specific figures, in print order. */
  extra: Record<string, string | number>;
  /** Scenario-specific failures (an instance that crashed, a health check never seen). */
  failures: string[];
  /** Where the run's inputs went, for a second look at the tree and the database. */
  run?: { root: string; url: string; inputs: readonly Input[] };
}

/** A fresh database `name` in the cluster at `adminUrl`, migrated, with its store open. */
export async function scenarioDatabase(adminUrl: string, name: string): Promise<{ url: string; store: Store }> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  return { url, store: await openStore({ databaseUrl: url, dataDir: '/nonexistent' }) };
}

/** Claims not finished yet, counted on a short-lived connection (the server may be restarting). */
export async function openClaims(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    return (await sql`select count(*)::int as n from file_claims where state <> 'done'`)[0]!.n as number;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Waits until some instance (one of `owners()` when given) is inside a file's
 * transaction; resolves with that instance's key.
 */
export async function midFile(url: string, owners?: () => number[], timeoutMs = 120_000): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    const claimed = async () => {
      const keys = owners?.();
      const rows = keys
        ? await sql`select owner from file_claims where state = 'claimed' and owner = any(${keys}) limit 1`
        : await sql`select owner from file_claims where state = 'claimed' limit 1`;
      return rows[0]?.owner as number | undefined;
    };
    return await waitFor(claimed, {
      timeoutMs,
      intervalMs: 5,
      what: 'a file inside its transaction',
    });
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** How many files `owner` holds inside its transaction now (more than one: a group). */
export async function heldBy(url: string, owner: number): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    const [row] = await sql`select count(*)::int as n from file_claims where state = 'claimed' and owner = ${owner}`;
    return row!.n as number;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Waits until every input has left the inbox with a result; says what is left if it times out. */
export async function waitFinished(
  root: string,
  inputs: readonly Input[],
  timeoutMs: number,
  opts: { collected?: string[]; logTail?: () => string } = {},
): Promise<void> {
  try {
    await waitFor(() => unfinished(root, inputs, opts.collected).length === 0, {
      timeoutMs,
      intervalMs: 250,
      what: `${inputs.length} inputs finished`,
    });
  } catch (err) {
    const left = unfinished(root, inputs, opts.collected);
    throw new Error(
      `${(err as Error).message}: ${left.length} left (${left
        .slice(0, 10)
        .map((i) => `${i.licence}/${i.name}${i.hostile ? ` ${i.hostile}` : ''}`)
        .join(', ')})${opts.logTail ? `\nlast lines logged:\n${opts.logTail().slice(-4000)}` : ''}`,
      { cause: err },
    );
  }
}

const FIGURE_LABELS: [keyof Figures, string][] = [
  ['files', 'files'],
  ['processed', 'processed'],
  ['notOneResult', 'not-one-result'],
  ['casTwice', 'cas-twice'],
  ['numbersTwice', 'numbers-twice'],
  ['drift', 'drift'],
  ['inputsLost', 'inputs-lost'],
  ['inputsTwice', 'inputs-twice'],
  ['recordsMissing', 'records-missing'],
  ['halfWritten', 'half-written'],
  ['claimsOpen', 'claims-open'],
];

/** One line: the scenario, its figures, its own figures, the wall time, and OK or FAIL. */
export function formatLine(r: ScenarioResult): string {
  const figures = FIGURE_LABELS.map(([k, label]) => `${label} ${r.figures[k] as number}`).join(', ');
  const extra = Object.entries(r.extra)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const ok = clean(r.figures) && r.failures.length === 0;
  return `${ok ? 'OK  ' : 'FAIL'} ${r.title}: ${figures}${extra ? `, ${extra}` : ''}, wall ${r.wallS.toFixed(1)} s`;
}

export const passed = (r: ScenarioResult) => clean(r.figures) && r.failures.length === 0;

/** A pause of a random length in [0.2, 1.8] x `meanMs`: the "random moment" of a kill. */
export const randomPause = (random: () => number, meanMs: number) => new Promise((r) => setTimeout(r, meanMs * (0.2 + 1.6 * random())));

export const seconds = (sinceMs: number) => (performance.now() - sinceMs) / 1000;
