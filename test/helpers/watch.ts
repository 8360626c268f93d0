/**
 * Helpers for the watch service tests: an in-process service on a test store with a
 * captured log, BDT files that differ per name, folder listings, the real CLI as a child
 * process, and the invariants every crash test checks.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { Db, Store } from '../../src/db/client.ts';
import { addSponsor } from '../../src/db/sponsors.ts';
import { rowsOf } from '../../src/db/sql-util.ts';
import { createLogger } from '../../src/log.ts';
import { startService, type ServiceOptions, type WatchService } from '../../src/service/service.ts';
import { casXml, uploadBytes } from './bdt.ts';
import { waitFor } from './wait.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO, 'bin/cas-bdt.js');

let licenceSeq = 0;
/** A fresh valid licence number per test (tests share a store per file). */
export const nextLicence = (prefix = 'W') =>
  `${prefix}${String(process.pid % 1000).padStart(3, '0')}${String(++licenceSeq).padStart(4, '0')}${licenceSeq % 10}`;

export async function sponsor(db: Db, licence: string, allocation = 1000, routes: ('student' | 'child')[] = ['student']): Promise<string> {
  await addSponsor(db, { licenceNumber: licence, name: `Sponsor ${licence}`, routes, autoAssign: true, allocation }, new Date());
  return licence;
}

/** An upload with `records` distinct READY-TO-GO CAS; `tag` makes file id and applicants unique. */
export function upload(licence: string, tag: string, records = 1): Buffer {
  return uploadBytes({
    licence,
    fileId: `FILE-${tag}`,
    records: Array.from({ length: records }, (_, i) => casXml({ applicantId: `${tag}-${i + 1}`, passport: `P${tag}${i}`.slice(0, 35) })),
  });
}

/** Writes under a temporary name and renames, as an upload client does. */
export function drop(dir: string, name: string, bytes: Buffer): string {
  const tmp = path.join(dir, `.${name}.uploading`);
  writeFileSync(tmp, bytes);
  const final = path.join(dir, name);
  renameSync(tmp, final);
  return final;
}

export const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

export interface InProcessService {
  service: WatchService;
  logs: string[];
  stop(): Promise<void>;
}

/** The service in this process, with small intervals and every log line kept. */
export async function startInProcess(store: Store, rootDir: string, over: Partial<ServiceOptions> = {}): Promise<InProcessService> {
  const logs: string[] = [];
  const log = createLogger({ write: (l) => void logs.push(l), level: 'debug' });
  const service = await startService({
    db: store.db,
    openSession: () => store.session(),
    rootDir,
    settleMs: 100,
    scanIntervalMs: 300,
    concurrency: 2,
    poll: false,
    maxFileBytes: 50 * 1024 * 1024,
    settings: { feePence: 2500, validityMonths: 6 },
    leaseMs: 5000,
    backoffMs: { initial: 100, max: 1000 },
    log,
    ...over,
  });
  let stopped = false;
  return {
    service,
    logs,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await service.stop();
    },
  };
}

/** Waits until every named input has left the inbox and has a result. */
export async function waitProcessed(root: string, licence: string, names: string[], timeoutMs = 60_000): Promise<void> {
  const inbox = path.join(root, licence, 'inbox');
  const outbox = path.join(root, licence, 'outbox');
  await waitFor(
    () => {
      const inInbox = new Set(ls(inbox));
      const results = ls(outbox);
      return names.every((n) => !inInbox.has(n) && results.some((r) => r.startsWith(n.replace(/\.xml$/i, '') + '.')));
    },
    { timeoutMs, what: `${names.length} files of ${licence} processed` },
  );
}

interface Invariants {
  submissions: number;
  cas: number;
  casNumbers: number;
}

/**
 * The crash invariants for one sponsor whose inputs are `names` (distinct files, each
 * with `recordsPerFile` distinct READY-TO-GO records, allocation large enough):
 * every input in archive/ exactly once and no longer in the inbox, one result per input,
 * one submission per input, every record stored once, no CAS number twice, allocation
 * used equal to the CAS assigned, no open claims.
 */
export async function checkInvariants(db: Db, root: string, licence: string, names: string[], recordsPerFile: number): Promise<Invariants> {
  const dir = (f: string) => path.join(root, licence, f);
  const problems: string[] = [];
  const inbox = ls(dir('inbox'));
  const archived = ls(dir('archive'));
  const rejected = ls(dir('rejected'));
  const results = ls(dir('outbox')).filter((f) => f.endsWith('.result.xml'));
  for (const n of names) {
    if (inbox.includes(n)) problems.push(`${n} still in the inbox`);
    const a = archived.filter((f) => f.replace(/^\d{8}T\d{6}Z(\.\d+)?_/, '') === n);
    if (a.length !== 1) problems.push(`${n} archived ${a.length} times`);
    const base = n.replace(/\.xml$/i, '');
    const r = results.filter((f) => f === `${base}.result.xml` || new RegExp(`^${base}\\.[0-9-]+\\.result\\.xml$`).test(f));
    if (r.length !== 1) problems.push(`${n} has ${r.length} results`);
  }
  if (rejected.length) problems.push(`rejected: ${rejected.join(', ')}`);
  const [sub] = await rowsOf<{ n: number; distinct_files: number }>(
    db,
    sql`select count(*)::int as n, count(distinct file_name)::int as distinct_files from submissions where sponsor_licence_number = ${licence}`,
  );
  if (sub!.n !== names.length || sub!.distinct_files !== names.length) problems.push(`${sub!.n} submissions for ${names.length} files`);
  const [c] = await rowsOf<{ n: number; numbers: number; distinct_numbers: number; keys: number }>(
    db,
    sql`select count(*)::int as n, count(cas_number)::int as numbers, count(distinct cas_number)::int as distinct_numbers,
               count(distinct record_key)::int as keys
        from cas where sponsor_licence_number = ${licence}`,
  );
  const expected = names.length * recordsPerFile;
  if (c!.n !== expected || c!.keys !== expected) problems.push(`${c!.n} CAS (${c!.keys} keys) for ${expected} records`);
  if (c!.numbers !== c!.distinct_numbers) problems.push('a CAS number was given twice');
  const [all] = await rowsOf<{ numbers: number; distinct_numbers: number }>(
    db,
    sql`select count(cas_number)::int as numbers, count(distinct cas_number)::int as distinct_numbers from cas`,
  );
  if (all!.numbers !== all!.distinct_numbers) problems.push('a CAS number was given twice (all sponsors)');
  const [s] = await rowsOf<{ used: number }>(db, sql`select allocation_used as used from sponsors where licence_number = ${licence}`);
  if (s!.used !== c!.numbers) problems.push(`allocation used ${s!.used} but ${c!.numbers} CAS assigned`);
  const [open] = await rowsOf<{ n: number }>(
    db,
    sql`select count(*)::int as n from file_claims where state <> 'done' and sponsor_licence_number = ${licence}`,
  );
  if (open!.n !== 0) problems.push(`${open!.n} claims still open`);
  if (problems.length) throw new Error(`invariants broken for ${licence}:\n  ${problems.join('\n  ')}`);
  return { submissions: sub!.n, cas: c!.n, casNumbers: c!.numbers };
}

/** `cas-bdt watch` on a store and root, with short intervals, two files at a time and a lease of `leaseMs`. */
export const watchArgs = (storeArgs: string[], root: string, leaseMs: number): string[] => [
  'watch',
  ...storeArgs,
  '--root',
  root,
  '--settle-ms',
  '200',
  '--scan-interval-ms',
  '500',
  '--concurrency',
  '2',
  '--lease-ms',
  String(leaseMs),
];

/** A `cas-bdt` child process with its stderr collected. */
export interface Child {
  proc: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number). */
  exited: Promise<number>;
  kill(signal: NodeJS.Signals): void;
}

const SIGNALS: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2 };

/** What the CLI needs at run time, copied for a user who cannot reach the clone. */
const PROGRAM_PARTS = ['bin', 'dist', 'schemas', 'drizzle', 'node_modules', 'package.json'];
const programCopies = new Map<string, string>();

/**
 * The CLI's entry point as `user` can run it. The clone may sit in a folder only its owner
 * can enter (a 0700 temporary folder, a home directory): then the compiled program is
 * copied once per test process to a folder every user can read, removed when the process
 * exits.
 */
export function binFor(user: string): string {
  const readable = spawnSync('setpriv', [`--reuid=${user}`, `--regid=${user}`, '--clear-groups', '--', 'test', '-r', BIN]).status === 0;
  if (readable) return BIN;
  let copy = programCopies.get('all');
  if (!copy) {
    copy = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-program-'));
    for (const part of PROGRAM_PARTS) cpSync(path.join(REPO, part), path.join(copy, part), { recursive: true, verbatimSymlinks: true });
    // Folders 0755 and files a+r, whatever the clone's umask was.
    spawnSync('chmod', ['-R', 'a+rX', copy]);
    chmodSync(copy, 0o755);
    programCopies.set('all', copy);
    const made = copy;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return path.join(copy, 'bin/cas-bdt.js');
}

/** `asUser`: run as that local user, its group of the same name and its other groups (needs root), as a service is run. */
export function spawnCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; asUser?: string } = {}): Child {
  const command = [process.execPath, opts.asUser ? binFor(opts.asUser) : BIN, ...args];
  if (opts.asUser) command.unshift('setpriv', `--reuid=${opts.asUser}`, `--regid=${opts.asUser}`, '--init-groups', '--');
  const proc = spawn(command[0]!, command.slice(1), {
    cwd: opts.cwd ?? REPO,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number>((resolve) => {
    // 'close', not 'exit': by then everything it wrote to stderr has been read.
    proc.once('close', (code, signal) => resolve(code ?? 128 + (signal ? (SIGNALS[signal] ?? 0) : 0)));
  });
  return { proc, stderr: () => err, exited, kill: (s) => void proc.kill(s) };
}

/** Waits until the child's stderr matches, failing early if it exits. */
export async function waitForLog(child: Child, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  let exited = false;
  void child.exited.then(() => (exited = true));
  await waitFor(
    () => {
      if (pattern.test(child.stderr())) return true;
      if (exited) throw new Error(`the process exited before logging ${pattern}:\n${child.stderr()}`);
      return false;
    },
    { timeoutMs, what: `log ${pattern}` },
  );
}
