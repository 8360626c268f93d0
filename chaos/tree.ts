/**
 * The chaos suite's folder tree and inputs: several sponsors, and BDT files of mixed sizes
 * (most small, some of hundreds of records), a few of them hostile (an entity bomb, a
 * schema violation, another sponsor's licence, a truncated file, a replayed copy). Every
 * input is remembered with its content hash and what it should become, so the checks can
 * tell a lost or doubled input from a processed one. Sizes come from a seeded generator:
 * a run can be repeated.
 */
import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../src/db/client.ts';
import { addSponsor } from '../src/db/sponsors.ts';
import { ensureSponsorFolders, sponsorDir } from '../src/inbox/layout.ts';
import { casXml, uploadBytes } from '../test/helpers/bdt.ts';

export type Hostile = 'entity-bomb' | 'schema' | 'other-sponsor' | 'truncated' | 'replay';

export interface Input {
  licence: string;
  name: string;
  sha256: string;
  /** Distinct new records it carries (0 for a hostile file or a replayed copy). */
  records: number;
  /** Where the input should end: archive/ (ACCEPTED, replays included) or rejected/. */
  expect: 'archive' | 'rejected';
  hostile?: Hostile;
}

/** A small seeded generator (mulberry32): the same seed gives the same run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A record count between 1 and `max`, log-uniform: mostly small files, a few large. */
export function recordCount(random: () => number, max: number): number {
  return Math.max(1, Math.min(max, Math.floor(Math.exp(random() * Math.log(max + 1)))));
}

/** Valid licence numbers for `n` sponsors of one scenario. */
export const licences = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(9 - prefix.length, '0')}`);

export async function addSponsors(db: Db, root: string, list: string[], allocation: number): Promise<void> {
  for (const licence of list) {
    await addSponsor(
      db,
      { licenceNumber: licence, name: `Chaos ${licence}`, routes: ['student'], autoAssign: true, allocation },
      new Date(),
    );
    await ensureSponsorFolders(root, licence);
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The bytes of one input, and what it should become. */
export function makeInput(
  licence: string,
  tag: string,
  records: number,
  hostile?: Hostile,
  other = 'QHDGHB91X',
): { bytes: Buffer; records: number; expect: Input['expect'] } {
  const valid = (lic: string, n: number) =>
    uploadBytes({
      licence: lic,
      fileId: `CHAOS-${tag}`,
      records: Array.from({ length: n }, (_, i) => casXml({ applicantId: `${tag}-${i + 1}`, passport: `P${tag}${i}`.slice(0, 35) })),
    });
  switch (hostile) {
    case undefined:
    case 'replay':
      return { bytes: valid(licence, records), records, expect: 'archive' };
    case 'other-sponsor':
      return { bytes: valid(other, 1), records: 0, expect: 'rejected' };
    case 'schema':
      return {
        bytes: Buffer.from(valid(licence, 2).toString('latin1').replace('<Gender>2</Gender>', '<Gender>two</Gender>'), 'latin1'),
        records: 0,
        expect: 'rejected',
      };
    case 'entity-bomb': {
      const lol = Array.from(
        { length: 9 },
        (_, i) => `<!ENTITY l${i + 1} "&l${i};&l${i};&l${i};&l${i};&l${i};&l${i};&l${i};&l${i};&l${i};&l${i};">`,
      ).join('');
      const text = valid(licence, 1)
        .toString('latin1')
        .replace('?>\n', `?>\n<!DOCTYPE r [<!ENTITY l0 "lol">${lol}]>\n`)
        .replace('Okafor', '&l9;');
      return { bytes: Buffer.from(text, 'latin1'), records: 0, expect: 'rejected' };
    }
    case 'truncated': {
      const b = valid(licence, 3);
      return { bytes: b.subarray(0, Math.floor(b.length * 0.6)), records: 0, expect: 'rejected' };
    }
  }
}

/** Writes under a hidden name and renames into the inbox, as an upload client does. */
export function dropInput(root: string, licence: string, name: string, bytes: Buffer): void {
  const inbox = sponsorDir(root, licence, 'inbox');
  const tmp = path.join(inbox, `.${name}.uploading`);
  writeFileSync(tmp, bytes);
  renameSync(tmp, path.join(inbox, name));
}

export interface PlanOptions {
  prefix: string;
  sponsors: string[];
  files: number;
  maxRecords: number;
  /** One file in `hostileEvery` is hostile (0: none). */
  hostileEvery: number;
  /** Hostile kinds to use, in turn. */
  hostileKinds?: Hostile[] | undefined;
  seed: number;
}

/**
 * `files` inputs spread over the sponsors in turn, made on demand (a large backlog is
 * never held in memory): `next()` writes the next one into its inbox and returns it.
 */
export function inputPlan(root: string, o: PlanOptions): { inputs: Input[]; next(): Input | undefined } {
  const random = rng(o.seed);
  const kinds = o.hostileKinds ?? ['entity-bomb', 'schema', 'other-sponsor', 'truncated', 'replay'];
  const inputs: Input[] = [];
  let hostileSeq = 0;
  const lastValid = new Map<string, Buffer>();
  return {
    inputs,
    next() {
      const i = inputs.length;
      if (i >= o.files) return undefined;
      const licence = o.sponsors[i % o.sponsors.length]!;
      const name = `${o.prefix}-${String(i).padStart(6, '0')}.xml`;
      let hostile = o.hostileEvery > 0 && i % o.hostileEvery === o.hostileEvery - 1 ? kinds[hostileSeq++ % kinds.length] : undefined;
      // A replay needs an earlier accepted file of the same sponsor.
      if (hostile === 'replay' && !lastValid.has(licence)) hostile = undefined;
      const made =
        hostile === 'replay'
          ? { bytes: lastValid.get(licence)!, records: 0, expect: 'archive' as const }
          : makeInput(licence, `${o.prefix}${i}`, recordCount(random, o.maxRecords), hostile);
      if (!hostile) lastValid.set(licence, made.bytes);
      dropInput(root, licence, name, made.bytes);
      const input: Input = {
        licence,
        name,
        sha256: sha(made.bytes),
        records: made.records,
        expect: made.expect,
        ...(hostile ? { hostile } : {}),
      };
      inputs.push(input);
      return input;
    },
  };
}
