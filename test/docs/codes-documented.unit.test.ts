/**
 * The contract stays in the repository and complete: every E_/W_ code the code can write
 * (a quoted literal in src/) is explained in docs/results.md and listed in the annotation
 * of schemas/result.xsd; nothing there names a code the code does not have; docs/cli.md
 * names every command and option --help lists; and no text
 * of the repository sends readers to a folder outside it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../..');
const read = (f: string) => readFileSync(path.join(REPO, f), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(path.join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** Codes as the code writes them: quoted literals (`constants.W_OK` and the like are not codes). */
const CODE = /['"`]([EW]_[A-Z][A-Z0-9_]*[A-Z0-9])['"`]/g;
const inSrc = new Set(sources('src').flatMap((f) => [...read(f).matchAll(CODE)].map((m) => m[1]!)));
const docs = read('docs/results.md');
/** Codes the document explains: a table row's first cell. */
const documented = new Set([...docs.matchAll(/^\| `([EW]_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
const xsd = read('schemas/result.xsd');
const annotation = /<xs:simpleType name="CodeType">[\s\S]*?<xs:documentation[^>]*>([\s\S]*?)<\/xs:documentation>/.exec(xsd)?.[1] ?? '';
const annotated = new Set([...annotation.matchAll(/^\s+([EW]_[A-Z0-9_]+):/gm)].map((m) => m[1]!));

describe('the codes in the repository contract', () => {
  it('finds the codes of src/ (the scan itself works)', () => {
    expect(inSrc.size).toBeGreaterThan(25);
    for (const c of ['E_SCHEMA', 'E_ENCODING', 'W_NO_ALLOCATION', 'W_PROGRESSION_NOT_PROVIDED']) expect(inSrc).toContain(c);
    expect(inSrc).not.toContain('W_OK');
  });

  it('explains every code of src/ in docs/results.md, and no other', () => {
    expect([...inSrc].filter((c) => !documented.has(c)).sort(), 'codes missing from docs/results.md').toEqual([]);
    expect([...documented].filter((c) => !inSrc.has(c)).sort(), 'codes in docs/results.md that src/ never writes').toEqual([]);
  });

  it('lists every code written into results in the annotation of schemas/result.xsd', () => {
    // E_SPONSOR_FOLDERS is a reason in logs and /healthz, never in a result file.
    const inResults = [...inSrc].filter((c) => c !== 'E_SPONSOR_FOLDERS');
    expect(inResults.filter((c) => !annotated.has(c)).sort(), 'codes missing from the result.xsd annotation').toEqual([]);
    expect([...annotated].filter((c) => !inSrc.has(c)).sort()).toEqual([]);
  });

  it('sends no reader outside the repository', () => {
    for (const f of ['README.md', 'docs/results.md', 'docs/cli.md', 'schemas/result.xsd', 'schemas/export.xsd']) {
      expect(read(f), f).not.toMatch(/\.\.\/shared|shared\/spec/);
    }
    const readme = read('README.md');
    expect(readme).toContain('(docs/results.md)');
    expect(readme).toContain('(docs/cli.md)');
  });

  it('is licensed as package.json says', () => {
    expect((JSON.parse(read('package.json')) as { license: string }).license).toBe('Apache-2.0');
    expect(read('LICENSE')).toMatch(/Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/);
  });
});

describe('docs/cli.md', () => {
  it('names every command and every option that --help lists', async () => {
    const { buildProgram } = await import('../../src/cli/main.ts');
    const io = { stdout: () => {}, stderr: () => {}, env: {}, cwd: REPO, stderrIsTTY: false };
    const program = buildProgram(io, () => {});
    const cli = read('docs/cli.md');
    const missing: string[] = [];
    const walk = (cmd: typeof program, names: string[]) => {
      for (const o of cmd.options)
        if (o.long && !o.hidden && o.long !== '--help' && !cli.includes(o.long)) missing.push(`${names.join(' ') || 'cas-bdt'} ${o.long}`);
      for (const sub of cmd.commands) {
        if (sub.name() === 'help') continue;
        const path = [...names, sub.name()];
        if (!cli.includes(path.join(' '))) missing.push(path.join(' '));
        walk(sub, path);
      }
    };
    walk(program, []);
    expect(missing).toEqual([]);
  });
});
