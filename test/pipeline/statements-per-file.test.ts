/**
 * How many statements the pipeline sends PostgreSQL for a one-record upload, as the watch
 * service runs it (its claim tied to the submission in the file's transaction): counted by
 * the driver, so that a change that adds one to every file is seen. bench/statements-per-
 * file.ts counts the whole service's, with round trips.
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimFile, tieSubmission } from '../../src/db/claims.ts';
import type { Db } from '../../src/db/client.ts';
import { schema } from '../../src/db/schema.ts';
import { sha256Of } from '../../src/inbox/read-file.ts';
import { casXml, uploadBytes } from '../helpers/bdt.ts';
import { suiteStore } from '../helpers/fixture.ts';
import { PipelineHarness } from '../helpers/pipeline.ts';
import { STORE_KINDS } from '../helpers/stores.ts';

/**
 * begin; the sponsor locked and the accepted files looked up (with the next id); the
 * batch; the live CAS of the record's key; fresh numbers with the payment opened; the CAS
 * and its events; the payment closed with the allocation used; the submission; the claim
 * tied; commit.
 */
const ONE_RECORD_UPLOAD = 11;

describe.skipIf(!STORE_KINDS.includes('postgres'))('statements per file on PostgreSQL', () => {
  const t = suiteStore('postgres');
  const sent: string[] = [];
  let client: postgres.Sql;
  let counted: Db;
  let h: PipelineHarness;

  beforeAll(() => {
    // As the service opens its store: no query of the array types on connecting.
    client = postgres(t.cliArgs[1]!, {
      max: 1,
      fetch_types: false,
      onnotice: () => {},
      debug: (_connection, query) => void sent.push(query),
    });
    counted = drizzle(client, { schema }) as unknown as Db;
    h = new PipelineHarness(t.store);
  });
  afterAll(() => client.end());

  it(`stores a one-record upload in ${ONE_RECORD_UPLOAD} statements`, async () => {
    const licence = await h.sponsor({ licence: 'STMT00001', allocation: 10 });
    const bytes = uploadBytes({ licence, fileId: 'ONE-1', records: [casXml({ applicantId: 'ONE-1' })] });
    const me = 4242;
    const got = await claimFile(t.store.db, {
      licence,
      fileName: 'one.xml',
      sha256: sha256Of(bytes),
      size: bytes.length,
      owner: me,
      leaseMs: 30_000,
    });
    const claimId = got!.claim.id;
    sent.length = 0;
    const run = await h.run(bytes, 'one.xml', licence, {
      db: counted,
      onStored: (tx, submissionId) => tieSubmission(tx, claimId, me, submissionId, 30_000),
    });
    expect(run.result.Outcome).toBe('ACCEPTED');
    expect(run.result.Records?.Record[0]?.Status).toBe('ASSIGNED');
    expect(sent.length, sent.map((q) => q.replace(/\s+/g, ' ').slice(0, 100)).join('\n')).toBe(ONE_RECORD_UPLOAD);
  });
});
