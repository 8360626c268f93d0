/** validateXsd itself: raw bytes in, every violation out with its position. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMA_DIR, schemaPath, validateXsd } from '../../src/xml/xsd.ts';
import { REPO_ROOT, getElement, latin1, setText } from './support.ts';

const GENERAL = path.join(REPO_ROOT, 'fixtures/upload/general-basic.xml');
const generalText = () => readFileSync(GENERAL).toString('latin1');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-xsd-'));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** 1-based line of the first occurrence of `needle`. */
function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`${needle} not in document`);
  return text.slice(0, at).split('\n').length;
}

describe('validateXsd', () => {
  it('resolves the schema directory of the repository', () => {
    expect(SCHEMA_DIR).toBe(path.join(REPO_ROOT, 'schemas'));
    for (const name of ['upload-general', 'upload-child', 'graduate', 'result', 'export'] as const) {
      expect(existsSync(schemaPath(name)), name).toBe(true);
    }
  });

  it.concurrent('accepts an ISO-8859-1 document with Latin-1 bytes, as a file and as bytes', async () => {
    expect(await validateXsd({ file: GENERAL }, 'upload-general')).toEqual([]);
    expect(await validateXsd({ bytes: readFileSync(GENERAL) }, 'upload-general')).toEqual([]);
  });

  it.concurrent('never re-encodes: 35 Latin-1 letters fit a 35-character name (they would not as UTF-8)', async () => {
    const doc = setText(generalText(), 'FamilyName', 'é'.repeat(35));
    const file = path.join(tmp, 'latin1-35.xml');
    writeFileSync(file, latin1(doc));
    expect(await validateXsd({ bytes: latin1(doc) }, 'upload-general')).toEqual([]);
    expect(await validateXsd({ file }, 'upload-general')).toEqual([]);
  });

  it.concurrent('reports Latin-1 text in messages as read', async () => {
    const doc = setText(generalText(), 'AddressLine', "Rue de l'Église");
    const violations = await validateXsd({ bytes: latin1(doc) }, 'upload-general');
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.some((v) => v.message.includes("Rue de l'Église"))).toBe(true);
    expect(violations.every((v) => v.line === lineOf(doc, "Rue de l'Église"))).toBe(true);
  });

  it.concurrent('returns every violation of a multi-error document with line and column', async () => {
    let doc = generalText();
    doc = setText(doc, 'SponsorLicenceNumber', 'QHDGHB91Y');
    doc = setText(doc, 'Gender', '3');
    doc = setText(doc, 'CourseHoursPerWeek', '200.5');
    doc = setText(doc, 'PostCode', 'LE17RH');
    doc = setText(doc, 'CourseFeesForFirstYearOnly', '24500.005');
    // A missing element in another record (libxml2 stops checking a sequence after its first content-model error).
    doc = doc.replace(/<\/CAS>/, (end) => `${end}\n${getElement(doc, 'CAS').replace(/\s*<AcademicLevel>[^<]*<\/AcademicLevel>/, '')}`);
    const violations = await validateXsd({ bytes: latin1(doc) }, 'upload-general');

    for (const v of violations) {
      expect(v.line, v.message).toBeGreaterThan(0);
      expect(v.column, v.message).toBeGreaterThan(0);
      expect(v.message).not.toMatch(/^cvc-|^\[/);
      expect(v.message).not.toContain('[error]');
    }
    const lines = new Set(violations.map((v) => v.line));
    for (const needle of ['QHDGHB91Y', '<Gender>3', '200.5', 'LE17RH', '24500.005']) {
      expect(lines.has(lineOf(doc, needle)), `a violation on the line of ${needle}`).toBe(true);
    }
    expect(violations.some((v) => v.message.includes("'QHDGHB91Y'"))).toBe(true);
    expect(violations.some((v) => v.message.includes('AcademicLevel'))).toBe(true);
  });

  it.concurrent('reports a document that is not well-formed once, with its position', async () => {
    const violations = await validateXsd({ bytes: Buffer.from('<a>\n  <b>\n</a>\n') }, 'upload-general');
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ severity: 'fatal', line: 3, column: 1 });
    expect(violations[0]!.message).toMatch(/does not match/);
  });

  it.concurrent('reports an unsupported declared encoding as one violation without a position', async () => {
    const violations = await validateXsd({ bytes: Buffer.from('<?xml version="1.0" encoding="X-NOPE-7"?><a/>') }, 'graduate');
    expect(violations).toHaveLength(1);
    expect(violations[0]!.line).toBeUndefined();
    expect(violations[0]!.message).toContain('X-NOPE-7');
  });

  it.concurrent('rejects when the document file does not exist', async () => {
    await expect(validateXsd({ file: path.join(tmp, 'nope.xml') }, 'graduate')).rejects.toThrow(/ENOENT/);
  });
});
