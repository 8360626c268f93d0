/** Reading export files back: parsing, unzipping (the `unzip` program) and validating (in process and with xmllint). */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { expect } from 'vitest';
import { schemaPath, validateXsd } from '../../src/xml/xsd.ts';
import { tempDir } from './stores.ts';

const parser = new XMLParser({
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  isArray: (name) => name === 'CAS',
});

type ParsedExport = {
  '@schema': string;
  SponsorLicenceNumber: string;
  GeneratedAt: string;
  ChangedSince?: string;
  CAS?: Record<string, string>[];
};

export const parseExport = (xml: string) => (parser.parse(xml) as { CASExport: ParsedExport }).CASExport;

const HAS_XMLLINT = spawnSync('xmllint', ['--version']).status === 0;
if (!HAS_XMLLINT) console.warn('xmllint not found (apt-get install libxml2-utils): exports are validated in process only');

/** Asserts the export is valid against schemas/export-v2.xsd: by the in-process engine and by xmllint. */
export async function expectValidExport(xml: string | Buffer): Promise<void> {
  const bytes = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml;
  expect(await validateXsd({ bytes }, 'export-v2')).toEqual([]);
  if (!HAS_XMLLINT) return;
  const file = path.join(tempDir('cas-bdt-xmllint-'), 'export.xml');
  writeFileSync(file, bytes);
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', schemaPath('export-v2'), file], { encoding: 'utf8' });
  expect(r.stderr.trim(), 'xmllint').toBe(`${file} validates`);
  expect(r.status).toBe(0);
}

/** The names of a zip's entries and its one entry's bytes, read by the `unzip` program. */
export function unzipOne(zip: string): { entries: string[]; bytes: Buffer } {
  const entries = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n');
  return { entries, bytes: execFileSync('unzip', ['-p', zip, entries[0]!], { maxBuffer: 1 << 30 }) };
}
