/**
 * The chaos suite's checks, as functions any scenario (or a test) can call: from the
 * folders and the database, after a run, the figures of loss and duplication. Each is a
 * count that must be 0; `problems` explains any that is not.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Db } from '../src/db/client.ts';
import { rowsOf } from '../src/db/sql-util.ts';
import { sponsorDir } from '../src/inbox/layout.ts';
import type { Input } from './tree.ts';

export interface Figures {
  /** Inputs dropped. */
  files: number;
  /** Inputs out of the inbox with exactly one result. */
  processed: number;
  /** Inputs with no result or more than one. */
  notOneResult: number;
  /** Records stored as a CAS more than once (same sponsor, same duplicate key). */
  casTwice: number;
  /** CAS numbers held by more than one CAS. */
  numbersTwice: number;
  /** Sum over sponsors of |allocation used - CAS numbers assigned|. */
  drift: number;
  /** Inputs whose bytes are nowhere: not in the inbox, archive/ or rejected/. */
  inputsLost: number;
  /** Inputs moved more than once (two copies in archive/ or rejected/). */
  inputsTwice: number;
  /** Records of accepted inputs that have no CAS. */
  recordsMissing: number;
  /** Results that are not complete XML documents, and temporary files left in an outbox. */
  halfWritten: number;
  /** Claims not finished. */
  claimsOpen: number;
  problems: string[];
}

/** The figures that must all be 0. */
export const LOSS_AND_DUPLICATION = [
  'notOneResult',
  'casTwice',
  'numbersTwice',
  'drift',
  'inputsLost',
  'inputsTwice',
  'recordsMissing',
  'halfWritten',
  'claimsOpen',
] as const;

const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A result file holds one whole document: its last element closes its first. */
export function completeResult(text: string): boolean {
  const root = /<([A-Za-z_][\w.:-]*)[\s>]/.exec(text.replace(/^<\?xml[^>]*\?>/, ''))?.[1];
  return root !== undefined && text.trimEnd().endsWith(`</${root}>`);
}

/**
 * The figures for `inputs` under `root`. `collected` lists folders results were moved to
 * while the run went on (an operator freeing a full outbox), counted as results too.
 */
export async function checkRun(db: Db, root: string, inputs: readonly Input[], collected: string[] = []): Promise<Figures> {
  const problems: string[] = [];
  const f: Figures = {
    files: inputs.length,
    processed: 0,
    notOneResult: 0,
    casTwice: 0,
    numbersTwice: 0,
    drift: 0,
    inputsLost: 0,
    inputsTwice: 0,
    recordsMissing: 0,
    halfWritten: 0,
    claimsOpen: 0,
    problems,
  };
  const licences = [...new Set(inputs.map((i) => i.licence))];
  for (const licence of licences) {
    const dir = (sub: string) => sponsorDir(root, licence, sub as 'inbox');
    const inbox = new Set(ls(dir('inbox')));
    const outbox = ls(dir('outbox'));
    const results = [
      ...outbox.map((n) => path.join(dir('outbox'), n)),
      ...collected.flatMap((c) => ls(path.join(c, licence)).map((n) => path.join(c, licence, n))),
    ].filter((p) => p.endsWith('.result.xml'));
    for (const tmp of outbox.filter((n) => n.startsWith('.'))) {
      f.halfWritten++;
      problems.push(`${licence}: temporary file left in the outbox: ${tmp}`);
    }
    for (const r of results) {
      if (!completeResult(readFileSync(r, 'utf8'))) {
        f.halfWritten++;
        problems.push(`${licence}: result ${path.basename(r)} is not a complete document`);
      }
    }
    const byBase = new Map<string, number>();
    for (const r of results) {
      const m = /^(.*?)(\.\d+)?\.result\.xml$/.exec(path.basename(r));
      if (m) byBase.set(m[1]!, (byBase.get(m[1]!) ?? 0) + 1);
    }
    // Moved inputs by original name: <stamp>[.n]_<name>.
    const moved = new Map<string, string[]>();
    for (const sub of ['archive', 'rejected']) {
      for (const n of ls(dir(sub))) {
        const m = /^\d{8}T\d{6}Z(?:\.\d+)?_(.*)$/.exec(n);
        if (!m) continue;
        const list = moved.get(m[1]!) ?? [];
        list.push(path.join(dir(sub), n));
        moved.set(m[1]!, list);
      }
    }
    for (const input of inputs.filter((i) => i.licence === licence)) {
      const base = input.name.replace(/\.xml$/i, '');
      const nResults = byBase.get(base) ?? 0;
      const copies = (moved.get(input.name) ?? []).filter((p) => sha(p) === input.sha256);
      const waiting = inbox.has(input.name);
      if (nResults === 1 && !waiting) f.processed++;
      if (nResults !== 1) {
        f.notOneResult++;
        problems.push(`${licence}/${input.name}: ${nResults} results${waiting ? ' (still in the inbox)' : ''}`);
      }
      if (copies.length === 0 && !waiting) {
        f.inputsLost++;
        problems.push(`${licence}/${input.name}: input lost (not in the inbox, archive/ or rejected/)`);
      }
      if (copies.length > 1) {
        f.inputsTwice++;
        problems.push(`${licence}/${input.name}: input moved ${copies.length} times`);
      }
      const wrongPlace = copies.find((p) => path.basename(path.dirname(p)) !== input.expect);
      if (wrongPlace)
        problems.push(
          `${licence}/${input.name}${input.hostile ? ` (${input.hostile})` : ''}: in ${path.basename(path.dirname(wrongPlace))}/, expected ${input.expect}/`,
        );
    }
  }
  const list = sql.join(
    licences.map((l) => sql`${l}`),
    sql`, `,
  );
  const cas = await rowsOf<{ licence: string; n: number; keys: number; numbers: number; used: number }>(
    db,
    sql`select s.licence_number as licence, count(c.id)::int as n, count(distinct c.record_key)::int as keys,
               count(c.cas_number)::int as numbers, s.allocation_used::int as used
        from sponsors s left join cas c on c.sponsor_licence_number = s.licence_number
        where s.licence_number in (${list}) group by s.licence_number, s.allocation_used`,
  );
  for (const r of cas) {
    const expected = inputs.filter((i) => i.licence === r.licence).reduce((sum, i) => sum + i.records, 0);
    if (r.n !== r.keys) problems.push(`${r.licence}: ${r.n - r.keys} CAS created twice`);
    f.casTwice += r.n - r.keys;
    if (r.keys < expected) problems.push(`${r.licence}: ${expected - r.keys} records of accepted files have no CAS`);
    f.recordsMissing += Math.max(0, expected - r.keys);
    if (r.used !== r.numbers) problems.push(`${r.licence}: allocation used ${r.used}, CAS numbers assigned ${r.numbers}`);
    f.drift += Math.abs(r.used - r.numbers);
  }
  const [numbers] = await rowsOf<{ twice: number }>(
    db,
    sql`select (count(cas_number) - count(distinct cas_number))::int as twice from cas`,
  );
  f.numbersTwice = numbers!.twice;
  if (f.numbersTwice) problems.push(`${f.numbersTwice} CAS numbers given twice`);
  const [claims] = await rowsOf<{ open: number }>(
    db,
    sql`select count(*)::int as open from file_claims where state <> 'done' and sponsor_licence_number in (${list})`,
  );
  f.claimsOpen = claims!.open;
  if (f.claimsOpen) problems.push(`${f.claimsOpen} claims not finished`);
  return f;
}

/** Inputs not yet finished: still in the inbox, or without a result. */
export function unfinished(root: string, inputs: readonly Input[], collected: string[] = []): Input[] {
  const out: Input[] = [];
  const cache = new Map<string, { inbox: Set<string>; bases: Set<string> }>();
  for (const input of inputs) {
    let c = cache.get(input.licence);
    if (!c) {
      const results = [...ls(sponsorDir(root, input.licence, 'outbox')), ...collected.flatMap((d) => ls(path.join(d, input.licence)))];
      c = {
        inbox: new Set(ls(sponsorDir(root, input.licence, 'inbox'))),
        bases: new Set(results.map((n) => /^(.*?)(\.\d+)?\.result\.xml$/.exec(n)?.[1] ?? '')),
      };
      cache.set(input.licence, c);
    }
    if (c.inbox.has(input.name) || !c.bases.has(input.name.replace(/\.xml$/i, ''))) out.push(input);
  }
  return out;
}

/** Whether every loss and duplication figure is 0. */
export const clean = (f: Figures) => LOSS_AND_DUPLICATION.every((k) => f[k] === 0) && f.processed === f.files;
