/**
 * The XSD engine itself: it refuses a DTD however it is handed one and loads nothing,
 * stops at its time budget, survives a thread that dies, and validates a file in chunks
 * exactly as it would whole.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectFile, MAX_SCHEMA_ERRORS } from '../../src/pipeline/inspect.ts';
import { scanDocument } from '../../src/xml/safety.ts';
import { MemorySource, type TextEncoding } from '../../src/xml/source.ts';
import { SCHEMA_DIR, validateScanned } from '../../src/xml/xsd.ts';
import { EnginePool, loadSchemas } from '../../src/xml/xsd-pool.ts';
import { casXml, uploadText } from '../helpers/bdt.ts';
import { waitFor } from '../helpers/wait.ts';

const MARKER = 'SECRET-MARKER-7f3a9c';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-engine-'));
const secret = path.join(tmp, 'secret.txt');
writeFileSync(secret, `${MARKER}\n`);

let requests = 0;
const server = http.createServer((_req, res) => {
  requests++;
  res.end(`<!ENTITY leak "${MARKER}">`);
});
let port = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

/** A scanned document (the pipeline's own path) or a failure. */
function scanned(text: string) {
  const s = scanDocument(text);
  if (!s.ok) throw new Error(`not scannable: ${s.error.message}`);
  return s.doc;
}

describe('handed a DTD directly, the engine', () => {
  const pool = new EnginePool(loadSchemas(SCHEMA_DIR, { general: 'upload-general.xsd' }), { size: 1 });
  afterAll(() => pool.close());

  const hostile = () => [
    `<!DOCTYPE r [<!ENTITY x SYSTEM "file://${secret}">]><r>&x;</r>`,
    `<!DOCTYPE r [<!ENTITY x SYSTEM "secret.txt">]><r>&x;</r>`,
    `<!DOCTYPE r [<!ENTITY x SYSTEM "file://${tmp}/">]><r>&x;</r>`,
    `<!DOCTYPE r SYSTEM "http://127.0.0.1:${port}/x.dtd"><r>&leak;</r>`,
    `<!DOCTYPE r PUBLIC "-//X//Y" "http://127.0.0.1:${port}/p.dtd"><r/>`,
    `<!DOCTYPE r [<!ENTITY % pe SYSTEM "http://127.0.0.1:${port}/pe.dtd"> %pe;]><r>&leak;</r>`,
    `<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><r>&c;</r>`,
  ];

  it('refuses every one and reads or fetches nothing', async () => {
    for (const text of hostile()) {
      const reply = await pool.run({ schema: 'general', text, fromLine: 1, maxDetails: 10 }, 30_000);
      expect(['forbidden', 'fatal'], text).toContain(reply.kind);
      expect(JSON.stringify(reply)).not.toContain(MARKER);
    }
    expect(requests).toBe(0);
  });

  it('ignores schema location hints: the verdict is the project schema alone, and nothing is fetched', async () => {
    const text = uploadText().replace(
      'xmlns="http://homeoffice',
      `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x http://127.0.0.1:${port}/s.xsd" xsi:noNamespaceSchemaLocation="http://127.0.0.1:${port}/n.xsd" xmlns="http://homeoffice`,
    );
    const doc = scanned(text);
    expect(await validateScanned(text, doc, 'upload-general')).toEqual({ kind: 'valid' });
    expect(requests).toBe(0);
  });
});

describe('limits of the engine', () => {
  const big = uploadText({ records: Array.from({ length: 3000 }, (_, i) => casXml({ applicantId: `L-${i}` })) });

  it('stops at its time budget with a limit, and validates the next file normally', async () => {
    const verdict = await validateScanned(big, scanned(big), 'upload-general', { timeoutMs: 1, chunkChars: 50_000 });
    expect(verdict.kind).toBe('limit');
    if (verdict.kind === 'limit') expect(verdict.message).toMatch(/longer than the limit/);
    expect(await validateScanned(big, scanned(big), 'upload-general')).toEqual({ kind: 'valid' });
  });

  it('turns a thread that dies during a job into a limit, and starts a fresh one for the next', async () => {
    const pool = new EnginePool(loadSchemas(SCHEMA_DIR, { general: 'upload-general.xsd' }), { size: 1 });
    try {
      const running = pool.run({ schema: 'general', text: big, fromLine: 1, maxDetails: 1 }, 60_000);
      await waitFor(() => pool.busy === 1, { what: 'the job to start' });
      await pool.close();
      await expect(running).rejects.toMatchObject({ code: 'engine-limit' });
      const reply = await pool.run({ schema: 'general', text: uploadText(), fromLine: 1, maxDetails: 1 }, 60_000);
      expect(reply.kind).toBe('valid');
    } finally {
      await pool.close();
    }
  });

  it('ends threads left idle once told to, never one at work, and starts a fresh one for a later job', async () => {
    const pool = new EnginePool(loadSchemas(SCHEMA_DIR, { general: 'upload-general.xsd' }), { size: 2 });
    try {
      await pool.warm();
      expect(pool.threads).toBe(2);
      pool.retireIdle(1);
      await waitFor(() => pool.threads === 0, { what: 'the idle threads to end' });
      // A job far longer than the idle time runs to its end on its thread.
      const reply = await pool.run({ schema: 'general', text: big, fromLine: 1, maxDetails: 1 }, 60_000);
      expect(reply.kind).toBe('valid');
      await waitFor(() => pool.threads === 0, { what: 'the thread to end after its job' });
      const again = await pool.run({ schema: 'general', text: uploadText(), fromLine: 1, maxDetails: 1 }, 60_000);
      expect(again.kind).toBe('valid');
    } finally {
      await pool.close();
    }
  });

  it('gives E_LIMIT through the pipeline when validation overruns --validate-timeout-s', async () => {
    const inspection = await inspectFile(Buffer.from(big, 'latin1'), { timeoutMs: 1 });
    expect(inspection.ok).toBe(false);
    if (!inspection.ok) expect(inspection.errors.map((e) => e.code)).toEqual(['E_LIMIT']);
  });
});

describe('validation in chunks', () => {
  const records = Array.from({ length: 400 }, (_, i) => {
    const r = casXml({ applicantId: `C-${i}` });
    return i % 37 === 5 ? r.replace(/<Gender>[^<]*<\/Gender>/, '<Gender>7</Gender>') : r;
  });
  const text = uploadText({ records });

  it('finds the same violations, at the same lines and columns, as the whole document', async () => {
    const doc = scanned(text);
    const whole = await validateScanned(text, doc, 'upload-general', { chunkChars: 1e9, maxViolations: 1000 });
    const chunked = await validateScanned(text, doc, 'upload-general', { chunkChars: 20_000, maxViolations: 1000 });
    expect(whole.kind).toBe('invalid');
    expect(chunked).toEqual(whole);
    if (whole.kind !== 'invalid') return;
    expect(whole.total).toBe(records.filter((r) => r.includes('<Gender>7')).length);
    const lines = text.split('\n');
    for (const v of whole.violations) expect(lines[v.line! - 1]!.slice(v.column! - 1)).toMatch(/^<Gender>7/);
  });

  it.each([
    ['utf8', '\n'],
    ['latin1', '\n'],
    ['utf8', '\r\n'],
    ['latin1', '\r'],
  ] as const)('finds them at the same places in a file in %s with %j line ends, chunked or whole', async (encoding: TextEncoding, eol) => {
    // Letters beyond ASCII before each violation on its line: columns count characters, not bytes.
    const accented = records.map((r, i) =>
      r.replace(/<Gender>/, i % 2 ? '<!-- Müller-Ñúñez ÿ -->  <Gender>' : '<Gender>').replace('<FamilyName>Okafor', '<FamilyName>Ñúñez'),
    );
    const lf = uploadText({ records: accented });
    const bytes = Buffer.from(lf.replaceAll('\n', eol), encoding);
    const source = new MemorySource(bytes, encoding);
    const scan = scanDocument({ bytes, encoding, source });
    if (!scan.ok) throw new Error(scan.error.message);
    const whole = await validateScanned(source, scan.doc, 'upload-general', { chunkChars: 1e9, maxViolations: 1000 });
    const chunked = await validateScanned(source, scan.doc, 'upload-general', { chunkChars: 20_000, maxViolations: 1000 });
    expect(chunked).toEqual(whole);
    if (whole.kind !== 'invalid') throw new Error(`expected violations, got ${whole.kind}`);
    expect(whole.total).toBe(accented.filter((r) => r.includes('<Gender>7')).length);
    const lines = lf.split('\n');
    for (const v of whole.violations) expect(lines[v.line! - 1]!.slice(v.column! - 1)).toMatch(/^<Gender>7/);
    // And a clean file is valid, chunked, in the same encoding.
    const clean = Buffer.from(
      uploadText({ records: accented.map((r) => r.replace('<Gender>7', '<Gender>1')) }).replaceAll('\n', eol),
      encoding,
    );
    const cleanSource = new MemorySource(clean, encoding);
    const cleanScan = scanDocument({ bytes: clean, encoding, source: cleanSource });
    if (!cleanScan.ok) throw new Error(cleanScan.error.message);
    expect(await validateScanned(cleanSource, cleanScan.doc, 'upload-general', { chunkChars: 20_000 })).toEqual({ kind: 'valid' });
  });

  it('counts a header violation once however many chunks repeat the header', async () => {
    const bad = text.replace('<SponsorLicenceNumber>QHDGHB91X', '<SponsorLicenceNumber>lower');
    const chunked = await validateScanned(bad, scanned(bad), 'upload-general', { chunkChars: 20_000, maxViolations: 1000 });
    const whole = await validateScanned(bad, scanned(bad), 'upload-general', { chunkChars: 1e9, maxViolations: 1000 });
    expect(chunked).toEqual(whole);
    if (chunked.kind !== 'invalid') throw new Error('expected violations');
    const onHeader = chunked.violations.filter((v) => v.message.includes('SponsorLicenceNumber'));
    expect(onHeader.length).toBeGreaterThan(0);
    expect(new Set(onHeader.map((v) => v.line))).toEqual(new Set([bad.split('\n').findIndex((l) => l.includes('>lower<')) + 1]));
  });

  it('lists the first 100 schema violations and says how many more there were', async () => {
    const bad = Array.from({ length: 150 }, (_, i) =>
      casXml({ applicantId: `E-${i}` }).replace(/<Gender>[^<]*<\/Gender>/, '<Gender>7</Gender>'),
    );
    const inspection = await inspectFile(Buffer.from(uploadText({ records: bad }), 'latin1'));
    expect(inspection.ok).toBe(false);
    if (inspection.ok) return;
    expect(inspection.errors).toHaveLength(MAX_SCHEMA_ERRORS + 1);
    expect(inspection.errors.every((e) => e.code === 'E_SCHEMA')).toBe(true);
    expect(inspection.errors.slice(0, MAX_SCHEMA_ERRORS).every((e) => e.line !== undefined)).toBe(true);
    expect(inspection.errors.at(-1)!.message).toMatch(/^50 more schema violation\(s\) were found \(150 in all\)/);
  });
});
