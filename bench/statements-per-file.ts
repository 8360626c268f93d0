/**
 * Statements and round trips per file: `cas-bdt watch` (the real service, bin/cas-bdt.js)
 * on a fresh database of the local PostgreSQL drains a backlog of N one-record upload
 * files of one sponsor, after W files to warm it up. wire-tap.ts, loaded into the service,
 * counts what it sends its database while the backlog drains: each statement executed,
 * under its text; each round trip (a message written while everything written before it
 * on that connection had been answered and read: statements pipelined behind others add
 * none); each Parse (a statement prepared, or sent unprepared). The service's loops
 * (sponsor list, leases) run meanwhile and show up as fractions. The database is dropped.
 *
 *   npx tsx bench/statements-per-file.ts [--files N] [--warmup W] [--settle-ms MS] [--concurrency C] [--all]
 *
 * Needs `npm run build` first; CAS_BDT_TEST_PG names another server.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { casXml, uploadText } from '../test/helpers/bdt.ts';
import { createPgDatabase } from '../test/helpers/stores.ts';
import type { WireTally } from './wire-tap.ts';

const { values } = parseArgs({
  strict: true,
  options: {
    files: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '10' },
    'settle-ms': { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '2' },
    /** Every statement's full text, not its first words. */
    all: { type: 'boolean', default: false },
  },
});
const files = Number(values.files);
const warmup = Number(values.warmup);
const LICENCE = 'STMT00001';
const BIN = path.resolve(import.meta.dirname, '../bin/cas-bdt.js');
const TAP = path.resolve(import.meta.dirname, 'wire-tap.ts');

/** A statement's text in a line: without quotes or table qualifiers, long column lists cut, the rest cut at 110 characters (all of it with --all). */
const label = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').replaceAll('"', '').trim();
  if (values.all) return flat;
  const short = flat
    .replace(/\b[a-z_]+\.(?=[a-z_])/g, '')
    .replace(/^select [\w.]+(?:, [\w.]+){3,} from /, 'select … from ')
    .replace(/^(insert into \w+) \([^)]{30,}\)/, '$1 (…)')
    .replace(/ values \((\$\d+|default|now\(\)|, )+\)/, ' values (…)');
  return short.length <= 110 ? short : `${short.slice(0, 109)}…`;
};

const pg = await createPgDatabase();
const work = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-stmt-per-file-'));
const root = path.join(work, 'bdt');
const inbox = path.join(root, LICENCE, 'inbox');
const outbox = path.join(root, LICENCE, 'outbox');
const direct = postgres(pg.url, { max: 1, onnotice: () => {} });

let seq = 0;
function drop(): string {
  const n = seq++;
  const name = `one-${String(n).padStart(6, '0')}.xml`;
  const text = uploadText({
    licence: LICENCE,
    fileId: `ONE-${n}`,
    records: [casXml({ applicantId: `S-${n}`, passport: `P${String(n).padStart(9, '0')}` })],
  });
  writeFileSync(path.join(inbox, `.${name}`), Buffer.from(text, 'latin1'));
  renameSync(path.join(inbox, `.${name}`), path.join(inbox, name));
  return name.replace(/\.xml$/, '.result.xml');
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every result written and every claim done (markDone follows the result). */
async function drained(names: string[]): Promise<void> {
  await until(() => {
    const have = new Set(readdirSync(outbox));
    return names.every((n) => have.has(n));
  }, 'the results');
  await until(async () => (await direct`select count(*)::int as n from file_claims where state <> 'done'`)[0]!.n === 0, 'the claims');
}

let service: ReturnType<typeof spawn> | undefined;
let log = '';
try {
  const where = ['--db', pg.url, '--root', root];
  const added = spawnSync(
    process.execPath,
    [BIN, ...where, 'sponsor', 'add', LICENCE, '--name', 'Bench', '--allocation', String(files + warmup + 10)],
    { encoding: 'utf8' },
  );
  if (added.status !== 0) throw new Error(`sponsor add failed: ${added.stderr}`);
  const args = [...where, '--settle-ms', values['settle-ms'], '--concurrency', values.concurrency, 'watch', '--log-format', 'json'];
  service = spawn(process.execPath, ['--import', 'tsx', TAP, BIN, ...args], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, CAS_BDT_WIRE_TAP_PORT: new URL(pg.url).port || '5432' },
  });
  service.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-20_000)));
  const child = service;
  const tallied = new Promise<WireTally>((resolve) => child.once('message', (m) => resolve(m as WireTally)));

  await until(() => log.includes('"msg":"ready"'), 'the service to start', 60_000);
  // Warm: the pool's connections are open and its statements prepared.
  await drained(Array.from({ length: warmup }, () => drop()));

  child.send('start');
  const names = Array.from({ length: files }, () => drop());
  await drained(names);
  // The statements owed are looked for after each file: let the last look end.
  await new Promise((r) => setTimeout(r, 300));
  child.send('stop');
  const tally = await tallied;

  const [outcomes] =
    await direct`select count(*) filter (where outcome = 'ACCEPTED')::int as accepted, count(*)::int as n from submissions`;
  const per = (n: number) => (n / files).toFixed(2).padStart(6);
  // Merged under their labels, in the order first sent.
  const rows = new Map<string, number>();
  for (const [text, n] of tally.statements) rows.set(label(text), (rows.get(label(text)) ?? 0) + n);
  const total = tally.statements.reduce((s, [, n]) => s + n, 0);
  console.log(
    `${files} one-record files through cas-bdt watch on PostgreSQL (concurrency ${values.concurrency}; ` +
      `${outcomes!.accepted} of ${outcomes!.n} submissions accepted)`,
  );
  console.log(`statements per file  ${per(total)}`);
  console.log(`round trips per file ${per(tally.roundTrips)}`);
  console.log(`parses per file      ${per(tally.parses)}  (connections opened: ${tally.connections})`);
  console.log('per file  statement');
  for (const [text, n] of rows) console.log(`${per(n)}    ${text}`);
  console.log(
    `load average: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} catch (err) {
  console.error(log);
  throw err;
} finally {
  if (service && service.exitCode === null) {
    const exited = new Promise((r) => service!.once('exit', r));
    // The IPC channel would keep the stopped service alive.
    if (service.connected) service.disconnect();
    service.kill('SIGTERM');
    await exited;
  }
  await direct.end();
  await pg.drop();
  rmSync(work, { recursive: true, force: true });
}
