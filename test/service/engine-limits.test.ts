/**
 * Files built to exhaust the validator, through the running service: a 1 MB value,
 * 300,000 nested elements and a 48 MB file full of schema errors each get a result with
 * the right code, and another sponsor's file dropped at the same moment is processed
 * as well (the time each took is printed).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { ensureSponsorFolders } from '../../src/inbox/layout.ts';
import { casXml, uploadBytes, uploadText } from '../helpers/bdt.ts';
import { storeTest as it } from '../helpers/fixture.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';
import { drop, ls, nextLicence, sponsor, upload } from '../helpers/watch.ts';

const codes = (xml: string) => [...xml.matchAll(/code="([A-Z_]+)"/g)].map((m) => m[1]);

describe.each(STORE_KINDS)('validator limits in the service on %s', (kind) => {
  it.override({ kind });

  it('refuses each hostile file with its code while another sponsor is served', async ({ t, root, licence: a, start }) => {
    const b = await sponsor(t.store.db, nextLicence('B'));
    await ensureSponsorFolders(root, a);
    await ensureSponsorFolders(root, b);
    await start({ settings: { feePence: 2500, validityMonths: 6, validateTimeoutMs: 30_000 } });

    const bad = casXml({}).replace(/<Gender>[^<]*<\/Gender>/, '<Gender>9</Gender>');
    const hostile: Record<string, { bytes: Buffer; code: string }> = {
      'field-1mb.xml': { bytes: uploadBytes({ licence: a, fileId: 'X'.repeat(1_000_000) }), code: 'E_LIMIT' },
      'nested-300k.xml': {
        bytes: Buffer.from(
          uploadText({ licence: a }).replace('<Header>', `<Header>${'<n>'.repeat(300_000)}${'</n>'.repeat(300_000)}`),
          'latin1',
        ),
        code: 'E_LIMIT',
      },
      'errors-48mb.xml': {
        bytes: uploadBytes({ licence: a, fileId: 'ERR', records: Array(Math.floor(48e6 / bad.length)).fill(bad) }),
        code: 'E_SCHEMA',
      },
    };
    const started = Date.now();
    for (const [name, f] of Object.entries(hostile)) drop(path.join(root, a, 'inbox'), name, f.bytes);
    drop(path.join(root, b, 'inbox'), 'good.xml', upload(b, `${b}G`));

    const done = new Map<string, number>();
    const resultOf = (licence: string, name: string) => path.join(root, licence, 'outbox', name.replace(/\.xml$/, '.result.xml'));
    await waitFor(
      () => {
        for (const [licence, name] of [...Object.keys(hostile).map((n) => [a, n]), [b, 'good.xml']] as [string, string][]) {
          if (!done.has(name) && ls(path.join(root, licence, 'outbox')).includes(path.basename(resultOf(licence, name))))
            done.set(name, Date.now() - started);
        }
        return done.size === 4;
      },
      { timeoutMs: 180_000, what: 'four results' },
    );
    console.info(`[limits ${kind}] seconds to each result: ${[...done].map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)}`).join(', ')}`);

    const good = readFileSync(resultOf(b, 'good.xml'), 'utf8');
    expect(good).toContain('<Outcome>ACCEPTED</Outcome>');
    for (const [name, f] of Object.entries(hostile)) {
      const xml = readFileSync(resultOf(a, name), 'utf8');
      expect(xml, name).toContain('<Outcome>REJECTED</Outcome>');
      expect(new Set(codes(xml)), name).toEqual(new Set([f.code]));
    }
    const schemaErrors = codes(readFileSync(resultOf(a, 'errors-48mb.xml'), 'utf8'));
    expect(schemaErrors).toHaveLength(101);
    await waitFor(() => ls(path.join(root, a, 'rejected')).length === 3 && ls(path.join(root, a, 'inbox')).length === 0, {
      what: 'the inputs moved to rejected/',
    });
  });
});
