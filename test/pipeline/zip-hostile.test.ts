/**
 * Hostile zips (spec section 4a) through the pipeline on both stores: each gets its code
 * (the whole zip refused, or one entry refused with E_ZIP_ENTRY and the good entry
 * beside it processed as usual), every result valid against its schema, in bounded time.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { submissions } from '../../src/db/schema.ts';
import { PipelineHarness } from '../helpers/pipeline.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { deflatedZeros, hostileZips, mismatch, rawZip, runZip } from '../helpers/zips.ts';
import { uploadBytes } from '../helpers/bdt.ts';

let zeros: Buffer;
beforeAll(async () => {
  zeros = await deflatedZeros(300 * 1024 * 1024);
}, 60_000);

describe.each(STORE_KINDS)('hostile zips on %s', (kind) => {
  const t = suiteStore(kind);
  let h: PipelineHarness;
  beforeAll(async () => {
    h = new PipelineHarness(t.store);
  });

  it('gives each hostile zip its code, quickly', async () => {
    const licence = await h.sponsor({ licence: 'HZIPA0001', allocation: 1000 });
    const failures: string[] = [];
    const times: Record<string, number> = {};
    for (const c of await hostileZips(licence, 'A', zeros)) {
      const started = performance.now();
      const run = await runZip(h, c.bytes, `${c.kind.replace(/[^a-z0-9]+/gi, '-')}.zip`, licence);
      times[c.kind] = Math.round(performance.now() - started);
      const wrong = mismatch(run, c.expect);
      if (wrong) failures.push(`${c.kind}: ${wrong}`);
    }
    expect(failures).toEqual([]);
    const slowest = Object.entries(times).sort((a, b) => b[1] - a[1])[0]!;
    console.log(`hostile zips on ${kind}: slowest ${slowest[0]} in ${slowest[1]} ms`);
    // Bounded: the slowest case (inflating what a header under-states stops at the stated size) is well under a few seconds.
    expect(Math.max(...Object.values(times))).toBeLessThan(10_000);
  }, 180_000);

  it('refuses a zip whose entries together expand beyond the limit (E_ZIP_LIMIT), storing nothing of it, counting the bytes of refused entries too', async () => {
    const small = new PipelineHarness(t.store, { feePence: 2500, validityMonths: 6, maxFileBytes: 1024 * 1024 });
    const licence = await small.sponsor({ licence: 'HZIPB0001' });
    // Random hex deflates to about half: the zip is under the limit, its entries together over it.
    const pad = (i: number) =>
      Buffer.concat([uploadBytes({ licence, fileId: `PAD-${i}` }), Buffer.from(`<!--${randomBytes(200 * 1024).toString('hex')}-->`)]);
    const run = await runZip(small, rawZip([0, 1, 2].map((i) => ({ name: `pad-${i}.xml`, data: pad(i) }))), 'big.zip', licence);
    expect(mismatch(run, { container: 'E_ZIP_LIMIT' })).toBeUndefined();
    expect(run.resultFile.endsWith('/big.result.xml')).toBe(true);
    // Entries refused only once inflated (a wrong CRC) count too: the zip's inflating costs at most the limit.
    const late = await runZip(
      small,
      rawZip([0, 1, 2].map((i) => ({ name: `crc-${i}.xml`, data: pad(i + 3), crc: 1 }))),
      'late.zip',
      licence,
    );
    expect(mismatch(late, { container: 'E_ZIP_LIMIT' })).toBeUndefined();
    const rows = await t.store.db.select().from(submissions).where(eq(submissions.sponsorLicenceNumber, licence));
    expect(rows.map((r) => [r.fileName, r.outcome]).sort()).toEqual([
      ['big.zip', 'REJECTED'],
      ['late.zip', 'REJECTED'],
    ]);
  });
});
