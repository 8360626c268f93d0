/**
 * Hostile prologs and XXE, tried as an attacker would (issue 7): DOCTYPEs and entity
 * declarations hidden behind processing instructions, comments and CDATA look-alikes,
 * general and parameter entities, SYSTEM and PUBLIC ids, file:, relative, directory and
 * http://127.0.0.1 targets, in ISO-8859-1, UTF-8 and UTF-16 (LE and BE, with a BOM).
 * Every one must be refused with E_DOCTYPE_FORBIDDEN, nothing may be read (the secret
 * marker, kept in a file, a file name, a directory name and the HTTP server's answers,
 * never appears in a result) and nothing may be fetched (the local HTTP server must see
 * no connection at all). Schema-location hints are ignored. Large prolog attacks finish
 * in linear time, run through the real CLI in a child process so that a scan that is
 * not linear fails the test instead of hanging it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateXsd } from '../../src/xml/xsd.ts';
import { UPLOAD_NS, casXml, uploadText } from '../helpers/bdt.ts';
import { cliOnStore, runCli } from '../helpers/cli.ts';
import { PipelineHarness, type Run } from '../helpers/pipeline.ts';
import { suiteStore } from '../helpers/fixture.ts';

const LICENCE = 'PROLOG001';
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(REPO_ROOT, 'bin/cas-bdt.js');

/** Appears in no document: only in the secret file, a file name, a directory name and the HTTP answers. */
const MARKER = `CASBDTSECRET${randomBytes(8).toString('hex').toUpperCase()}`;

// ---------------------------------------------------------------------------
// The bait: a secret file, a directory listing it, /tmp listing a directory named after
// it, and a local HTTP server that answers with it and records every connection.

const secretDir = mkdtempSync(path.join(os.tmpdir(), 'cas-bdt-prolog-'));
const secretFile = path.join(secretDir, 'secret.txt');
writeFileSync(secretFile, `${MARKER}\n`);
writeFileSync(path.join(secretDir, `${MARKER}.txt`), 'listed\n');
const tmpListed = mkdtempSync(path.join(os.tmpdir(), `${MARKER}-`));
/** A schema that accepts anything, for schema-location hints that must not be followed. */
const permissiveXsd = path.join(secretDir, 'anything.xsd');
writeFileSync(
  permissiveXsd,
  `<?xml version="1.0"?><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="${UPLOAD_NS}"><xs:element name="BulkFileUploadGeneralRootElement"><xs:complexType><xs:sequence><xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element></xs:schema>`,
);

const connections: string[] = [];
const requests: string[] = [];
const server: Server = createServer((req, res) => {
  requests.push(`${req.method} ${req.url}`);
  res.end(answer(req.url ?? ''));
});
server.on('connection', (s) => connections.push(`${s.remoteAddress}:${s.remotePort}`));
// Listening before the tests are collected: their documents name the server's port.
await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

function answer(url: string): string {
  if (url.endsWith('.xsd')) return readFileSync(permissiveXsd, 'utf8');
  if (url.endsWith('.dtd')) return `<!ENTITY xxe "${MARKER}"><!ENTITY % all "<!ENTITY leak '${MARKER}'>"> %all;`;
  return `${MARKER}\n`;
}

const TARGETS = {
  file: () => pathToFileURL(secretFile).href,
  relative: () => '../'.repeat(24) + secretFile.replace(/^\/+/, ''),
  directory: () => `${pathToFileURL(secretDir).href}/`,
  tmp: () => `${pathToFileURL(os.tmpdir()).href.replace(/\/$/, '')}/`,
  http: () => `${base}/secret`,
} as const;
type Target = keyof typeof TARGETS;

// ---------------------------------------------------------------------------
// The documents. A prolog is `before` (harmless: comments, PIs, whitespace), then the
// forbidden markup (its first `<!` is what must be reported), then `after`.

/** How the forbidden markup is written; `url` is the target, `ref` whether the body uses &xxe;. */
interface Kind {
  name: string;
  markup: (url: string) => string;
  ref: boolean;
  /** Lower-case <!doctype is not XML at all: refusing it as not well-formed is as good. */
  orNotWellFormed?: boolean;
}

const KINDS: Record<string, Kind> = {
  systemEntity: {
    name: 'general entity, SYSTEM id',
    markup: (u) => `<!DOCTYPE ns2:BulkFileUploadGeneralRootElement [<!ENTITY xxe SYSTEM "${u}">]>`,
    ref: true,
  },
  publicEntity: {
    name: 'general entity, PUBLIC id',
    markup: (u) => `<!DOCTYPE r [<!ENTITY xxe PUBLIC "-//CASBDT//HOSTILE//EN" "${u}">]>`,
    ref: true,
  },
  systemSubset: { name: 'external DTD subset, SYSTEM id', markup: (u) => `<!DOCTYPE r SYSTEM "${u}">`, ref: false },
  publicSubset: {
    name: 'external DTD subset, PUBLIC id',
    markup: (u) => `<!DOCTYPE r PUBLIC "-//CASBDT//HOSTILE//EN" "${u}">`,
    ref: false,
  },
  parameterEntity: { name: 'parameter entity %pe;', markup: (u) => `<!DOCTYPE r [<!ENTITY % pe SYSTEM "${u}"> %pe;]>`, ref: false },
  outOfBand: {
    name: 'out-of-band parameter entities',
    markup: (u) => `<!DOCTYPE r [<!ENTITY % secret SYSTEM "${u}"><!ENTITY % dtd SYSTEM "${base}/oob.dtd"> %dtd;]>`,
    ref: false,
  },
  subsetComment: {
    name: 'comment inside the internal subset',
    markup: (u) => `<!DOCTYPE r [<!-- ]> --><!ENTITY xxe SYSTEM "${u}">]>`,
    ref: true,
  },
  entityAlone: { name: '<!ENTITY alone in the prolog', markup: (u) => `<!ENTITY xxe SYSTEM "${u}">`, ref: true },
  lowerCase: {
    name: 'lower-case <!doctype',
    markup: (u) => `<!doctype r [<!ENTITY xxe SYSTEM "${u}">]>`,
    ref: true,
    orNotWellFormed: true,
  },
};

interface Disguise {
  name: string;
  before: string;
  after: string;
  /** Markup that itself starts with `<!` and so is the first forbidden thing (the CDATA look-alike). */
  lead?: string;
}

const DISGUISES: Disguise[] = [
  { name: 'right after the XML declaration', before: '', after: '' },
  { name: 'issue 7: a PI holding <!--, the DOCTYPE, then a comment', before: '<?x <!-- ?>\n', after: '\n<!-- -->' },
  { name: 'a PI holding <!-- and no comment anywhere', before: '<?x <!--?>\n', after: '' },
  { name: 'a PI whose data looks like a comment start, same line', before: '<?x-style href="<!--" ?>', after: '\n<?y -->?>' },
  { name: 'a comment holding <?, then a comment holding ?>', before: '<!-- <? -->\n', after: '\n<!-- ?> -->' },
  { name: 'a CDATA look-alike holding <!--', before: '', lead: '<![CDATA[ <!-- ]]>\n', after: '\n<!-- -->' },
  { name: 'after comments', before: '<!-- one -->\n<!--\n two, over lines\n-->\n', after: '' },
  { name: 'after processing instructions', before: '<?a?>\n<?b c="d"?>\n<?c <![CDATA[ ?>\n', after: '' },
  { name: 'after comments and PIs sharing lines', before: '<!-- a --> <?b?>\n\t<!-- c --><?d?> ', after: '' },
];

type Encoding = 'ISO-8859-1' | 'UTF-8' | 'UTF-8 BOM' | 'UTF-16LE' | 'UTF-16BE';

const DECLARATION = '<?xml version="1.0" encoding="ISO-8859-1"?>';

let fileNo = 0;

/** A valid upload for LICENCE (unless `body` is changed), its prolog replaced. */
function uploadWith(prolog: string, opts: { ref?: boolean; records?: string[]; rootAttrs?: string } = {}): string {
  const text = uploadText({ licence: LICENCE, fileId: `PROLOG-${++fileNo}`, ...(opts.records ? { records: opts.records } : {}) });
  if (!text.startsWith(`${DECLARATION}\n`)) throw new Error('unexpected upload layout');
  let body = text.slice(DECLARATION.length + 1);
  if (opts.ref)
    body = body.replace(`<SponsorLicenceNumber>${LICENCE}</SponsorLicenceNumber>`, '<SponsorLicenceNumber>&xxe;</SponsorLicenceNumber>');
  if (opts.rootAttrs)
    body = body.replace('<ns2:BulkFileUploadGeneralRootElement ', `<ns2:BulkFileUploadGeneralRootElement ${opts.rootAttrs} `);
  return `${DECLARATION}\n${prolog}${prolog ? '\n' : ''}${body}`;
}

function encode(text: string, encoding: Encoding): Buffer {
  const named = (name: string) => text.replace('encoding="ISO-8859-1"', `encoding="${name}"`);
  switch (encoding) {
    case 'ISO-8859-1':
      return Buffer.from(text, 'latin1');
    case 'UTF-8':
      return Buffer.from(named('UTF-8'), 'utf8');
    case 'UTF-8 BOM':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(named('UTF-8'), 'utf8')]);
    case 'UTF-16LE':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(named('UTF-16'), 'utf16le')]);
    case 'UTF-16BE':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(named('UTF-16'), 'utf16le')]).swap16();
  }
}

interface Hostile {
  title: string;
  text: string;
  /** 1-based line of the first forbidden `<!`. */
  line: number;
  orNotWellFormed: boolean;
}

function hostile(d: Disguise, k: Kind, target: Target): Hostile {
  const prolog = d.before + (d.lead ?? '') + k.markup(TARGETS[target]()) + d.after;
  return {
    title: `${d.name} | ${k.name} | ${target}`,
    text: uploadWith(prolog, { ref: k.ref }),
    line: 2 + (d.before.match(/\n/g)?.length ?? 0),
    orNotWellFormed: !!k.orNotWellFormed,
  };
}

const PLAIN = DISGUISES[0]!;
const ISSUE_7 = DISGUISES[1]!;

/** The corpus run through the pipeline: every disguise, every kind, every target, every encoding. */
const CORPUS: Array<{ h: Hostile; encoding: Encoding }> = [];
const corpus = () => {
  if (CORPUS.length) return CORPUS;
  for (const d of DISGUISES)
    for (const target of ['file', 'http'] as const) CORPUS.push({ h: hostile(d, KINDS.systemEntity!, target), encoding: 'ISO-8859-1' });
  for (const k of Object.values(KINDS)) {
    if (k === KINDS.systemEntity) continue;
    for (const target of ['file', 'http'] as const) CORPUS.push({ h: hostile(PLAIN, k, target), encoding: 'ISO-8859-1' });
    CORPUS.push({ h: hostile(ISSUE_7, k, 'http'), encoding: 'ISO-8859-1' });
  }
  for (const k of [KINDS.systemEntity!, KINDS.parameterEntity!]) {
    for (const target of ['relative', 'directory', 'tmp'] as const) CORPUS.push({ h: hostile(ISSUE_7, k, target), encoding: 'ISO-8859-1' });
  }
  for (const encoding of ['UTF-8', 'UTF-8 BOM', 'UTF-16LE', 'UTF-16BE'] as const) {
    for (const d of [PLAIN, ISSUE_7, DISGUISES[2]!, DISGUISES[5]!]) CORPUS.push({ h: hostile(d, KINDS.systemEntity!, 'file'), encoding });
    CORPUS.push({ h: hostile(ISSUE_7, KINDS.systemSubset!, 'http'), encoding });
    CORPUS.push({ h: hostile(ISSUE_7, KINDS.outOfBand!, 'file'), encoding });
  }
  return CORPUS;
};

// ---------------------------------------------------------------------------

const codes = (r: Run) => r.result.FileErrors?.Error.map((e) => e['@_code']) ?? [];

afterEach((ctx) => {
  // Nothing may ever reach the server; say which test made it happen, then start clean.
  const seen = { connections: [...connections], requests: [...requests] };
  connections.length = 0;
  requests.length = 0;
  expect(seen, `${ctx.task.name}: the local HTTP server was contacted`).toEqual({ connections: [], requests: [] });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(secretDir, { recursive: true, force: true });
  rmSync(tmpListed, { recursive: true, force: true });
});

function expectRefused(got: string[], h: Hostile, where: string): void {
  if (h.orNotWellFormed) {
    expect(got.length, where).toBeGreaterThan(0);
    expect(
      got.every((c) => c === 'E_DOCTYPE_FORBIDDEN' || c === 'E_NOT_WELL_FORMED'),
      `${where}: ${got.join(', ')}`,
    ).toBe(true);
  } else {
    expect(got, where).toEqual(['E_DOCTYPE_FORBIDDEN']);
  }
}

describe('hostile prologs through processFile (PGlite)', () => {
  const t = suiteStore('pglite');
  let h: PipelineHarness;

  beforeAll(async () => {
    h = new PipelineHarness(t.store);
    await h.sponsor({ licence: LICENCE });
  });

  it('has a corpus covering every disguise, kind, target and encoding', () => {
    const all = corpus();
    expect(all.length).toBeGreaterThanOrEqual(60);
    for (const d of DISGUISES)
      expect(
        all.some((c) => c.h.title.startsWith(d.name)),
        d.name,
      ).toBe(true);
    for (const k of Object.values(KINDS))
      expect(
        all.some((c) => c.h.title.includes(`| ${k.name} |`)),
        k.name,
      ).toBe(true);
    for (const target of Object.keys(TARGETS))
      expect(
        all.some((c) => c.h.title.endsWith(`| ${target}`)),
        target,
      ).toBe(true);
    // The documents name the bait only by its location, never by its content.
    for (const c of all) expect(c.h.text).not.toContain(MARKER);
  });

  // One test per document, named after it, so a failure says which trick worked.
  for (const [i, c] of corpus().entries()) {
    it(`${String(i + 1).padStart(2, '0')} ${c.h.title} [${c.encoding}]`, async () => {
      const run = await h.run(encode(c.h.text, c.encoding), `prolog-${i + 1}.xml`, LICENCE);
      expect(run.resultXml).not.toContain(MARKER);
      expect(readFileSync(run.resultFile, 'utf8')).not.toContain(MARKER);
      expect(run.result.Outcome).toBe('REJECTED');
      expect(run.result.Records).toBeUndefined();
      expectRefused(codes(run), c.h, c.h.title);
      if (!c.h.orNotWellFormed)
        expect(run.result.FileErrors!.Error[0]!['@_line'], 'the line of the first forbidden <!').toBe(String(c.h.line));
    });
  }

  it('ignores xsi:schemaLocation and xsi:noNamespaceSchemaLocation on a valid file: accepted, nothing fetched', async () => {
    const xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
    for (const attrs of [
      `${xsi} xsi:schemaLocation="${UPLOAD_NS} ${base}/upload.xsd"`,
      `${xsi} xsi:noNamespaceSchemaLocation="${base}/none.xsd"`,
      `${xsi} xsi:schemaLocation="${UPLOAD_NS} ${pathToFileURL(permissiveXsd).href}" xsi:noNamespaceSchemaLocation="${TARGETS.relative()}"`,
    ]) {
      const records = [casXml({ applicantId: `HINT-OK-${fileNo}` })];
      const run = await h.run(Buffer.from(uploadWith('', { rootAttrs: attrs, records }), 'latin1'), 'hinted.xml', LICENCE);
      expect(codes(run), attrs).toEqual([]);
      expect(run.result.Outcome, attrs).toBe('ACCEPTED');
      expect(run.result.Records!.Record[0]!.Outcome).toBe('CREATED');
    }
  });

  it('judges a hinted file by the project schema only: the permissive hinted schema changes nothing', async () => {
    const xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
    const bad = [casXml({ applicantId: 'HINT-1' }).replace('<Gender>2</Gender>', '<Gender>3</Gender>')];
    for (const attrs of [
      `${xsi} xsi:schemaLocation="${UPLOAD_NS} ${base}/upload.xsd"`,
      `${xsi} xsi:schemaLocation="${UPLOAD_NS} ${pathToFileURL(permissiveXsd).href}"`,
    ]) {
      const run = await h.run(Buffer.from(uploadWith('', { rootAttrs: attrs, records: bad }), 'latin1'), 'hinted-bad.xml', LICENCE);
      expect(run.result.Outcome, attrs).toBe('REJECTED');
      expect(new Set(codes(run)), attrs).toEqual(new Set(['E_SCHEMA']));
    }
  });
});

describe('the validator itself, handed a DTD directly (defence in depth)', () => {
  const direct = [
    hostile(PLAIN, KINDS.systemEntity!, 'file'),
    hostile(PLAIN, KINDS.systemEntity!, 'http'),
    hostile(PLAIN, KINDS.publicEntity!, 'directory'),
    hostile(PLAIN, KINDS.systemSubset!, 'http'),
    hostile(PLAIN, KINDS.parameterEntity!, 'http'),
    hostile(PLAIN, KINDS.outOfBand!, 'file'),
    hostile(ISSUE_7, KINDS.systemEntity!, 'relative'),
  ];
  for (const [i, d] of direct.entries()) {
    it(`refuses ${d.title}: a violation, nothing read or fetched`, async () => {
      const violations = await validateXsd({ bytes: encode(d.text, i % 2 ? 'UTF-16BE' : 'ISO-8859-1') }, 'upload-general');
      expect(JSON.stringify(violations)).not.toContain(MARKER);
      expect(violations.length).toBeGreaterThan(0);
    });
  }

  it('ignores schema-location hints', async () => {
    const attrs = `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${UPLOAD_NS} ${base}/upload.xsd"`;
    expect(await validateXsd({ bytes: Buffer.from(uploadWith('', { rootAttrs: attrs }), 'latin1') }, 'upload-general')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// The real CLI: a few hostile files in process (as test/helpers/cli.ts runs it), then
// the large prolog attacks in a child process that is killed if it overruns.

const BOUND_MS = 60_000;

interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  killed: boolean;
}

/** Runs bin/cas-bdt.js; kills it (and reports so) when it runs longer than `boundMs`. */
function cli(args: string[], cwd: string, boundMs = BOUND_MS): Promise<Spawned> {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, boundMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, killed });
    });
  });
}

describe('hostile prologs through the CLI (cas-bdt process)', () => {
  const { t, cwd, root } = cliOnStore('pglite', 'cas-bdt-prolog-cwd-');
  const dir = path.join(cwd, 'files');
  const CLI_LICENCE = 'PROLOGCL1';
  let n = 0;

  beforeAll(async () => {
    mkdirSync(dir);
    const add = await runCli([...t.cliArgs, '--root', root, 'sponsor', 'add', CLI_LICENCE, '--name', 'Prolog University'], { cwd });
    expect(add.code, add.stderr).toBe(0);
  });

  const forCli = (text: string) => text.replaceAll(`>${LICENCE}<`, `>${CLI_LICENCE}<`);
  const write = (bytes: Buffer) => {
    const file = path.join(dir, `hostile-${++n}.xml`);
    writeFileSync(file, bytes);
    return file;
  };

  it('refuses the issue 7 trick and its variants: exit 3, E_DOCTYPE_FORBIDDEN, no secret in the result', async () => {
    const docs = [
      { h: hostile(ISSUE_7, KINDS.systemEntity!, 'file'), encoding: 'ISO-8859-1' as const },
      { h: hostile(DISGUISES[2]!, KINDS.systemSubset!, 'http'), encoding: 'UTF-16BE' as const },
      { h: hostile(DISGUISES[5]!, KINDS.outOfBand!, 'file'), encoding: 'UTF-16LE' as const },
      { h: hostile(ISSUE_7, KINDS.parameterEntity!, 'relative'), encoding: 'UTF-8' as const },
    ];
    const files = docs.map((d) => write(encode(forCli(d.h.text), d.encoding)));
    const out = path.join(cwd, 'out-small');
    const res = await runCli([...t.cliArgs, '--root', root, 'process', ...files, '--sponsor', CLI_LICENCE, '--out', out, '--json'], {
      cwd,
    });
    expect(res.code, res.stderr).toBe(3);
    expect(res.stdout + res.stderr).not.toContain(MARKER);
    const summaries = res.json<Array<{ outcome: string; resultFile: string; fileErrors: { code: string }[] }>>();
    expect(summaries).toHaveLength(docs.length);
    summaries.forEach((s, i) => {
      expect(s.outcome).toBe('REJECTED');
      expectRefused(
        s.fileErrors.map((e) => e.code),
        docs[i]!.h,
        docs[i]!.h.title,
      );
      expect(readFileSync(s.resultFile, 'utf8')).not.toContain(MARKER);
    });
  });

  /** One large attack: the CLI in a child process, bounded, timed. */
  async function large(name: string, text: string, expectOutcome: { outcome: 'ACCEPTED' } | { outcome: 'REJECTED'; code: string }) {
    const file = write(Buffer.from(forCli(text), 'latin1'));
    const out = path.join(cwd, `out-${n}`);
    const res = await cli([...t.cliArgs, '--root', root, 'process', file, '--sponsor', CLI_LICENCE, '--out', out, '--json'], cwd);
    const mb = (Buffer.byteLength(text, 'latin1') / 1024 / 1024).toFixed(1);
    console.info(
      `[hostile-prolog] ${name} (${mb} MB): ${res.killed ? `killed after ${res.ms} ms` : `${res.ms} ms`} through cas-bdt process`,
    );
    expect(res.killed, `${name}: cas-bdt process did not finish within ${BOUND_MS / 1000} s (the prolog scan is not linear)`).toBe(false);
    expect(res.stdout + res.stderr).not.toContain(MARKER);
    const [s] = JSON.parse(res.stdout) as Array<{ outcome: string; fileErrors: { code: string }[]; resultFile: string }>;
    expect(s!.outcome, `${name}: ${JSON.stringify(s!.fileErrors).slice(0, 500)}`).toBe(expectOutcome.outcome);
    if (expectOutcome.outcome === 'REJECTED')
      expect(
        s!.fileErrors.map((e) => e.code),
        name,
      ).toEqual([expectOutcome.code]);
    else expect(res.code).toBe(0);
    expect(readFileSync(s!.resultFile, 'utf8')).not.toContain(MARKER);
  }

  const FIVE_MB_OF_ENTITY = '<!ENTITY '.repeat(Math.ceil((5 * 1024 * 1024) / 9));
  const PIS_WITH_COMMENT_START = '<?p <!-- ?>\n'.repeat(100_000);

  it(
    '5 MB of <!ENTITY inside one comment is a comment: accepted, in linear time',
    async () => {
      await large('5 MB of <!ENTITY in a comment', uploadWith(`<!-- ${FIVE_MB_OF_ENTITY} -->`), { outcome: 'ACCEPTED' });
    },
    2 * BOUND_MS,
  );

  it(
    '5 MB of <!ENTITY inside one comment, then a DOCTYPE: refused, in linear time',
    async () => {
      const text = uploadWith(`<!-- ${FIVE_MB_OF_ENTITY} -->\n${KINDS.systemEntity!.markup(TARGETS.http())}`, { ref: true });
      await large('5 MB of <!ENTITY in a comment, then a DOCTYPE', text, { outcome: 'REJECTED', code: 'E_DOCTYPE_FORBIDDEN' });
    },
    2 * BOUND_MS,
  );

  it(
    '100,000 PIs each holding <!-- are PIs: accepted, in linear time',
    async () => {
      await large('100,000 PIs holding <!--', uploadWith(PIS_WITH_COMMENT_START.trimEnd()), { outcome: 'ACCEPTED' });
    },
    2 * BOUND_MS,
  );

  it(
    '100,000 PIs each holding <!--, then a DOCTYPE: refused, in linear time',
    async () => {
      const text = uploadWith(`${PIS_WITH_COMMENT_START}${KINDS.systemEntity!.markup(TARGETS.file())}`, { ref: true });
      await large('100,000 PIs holding <!--, then a DOCTYPE', text, { outcome: 'REJECTED', code: 'E_DOCTYPE_FORBIDDEN' });
    },
    2 * BOUND_MS,
  );
});
