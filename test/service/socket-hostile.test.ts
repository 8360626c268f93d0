/**
 * The store's socket against a client that misbehaves (spec section 7): whatever session
 * state a client sets is gone for the others, what it leaves is cleaned when it goes, and
 * a client that sits inside a transaction (or halfway through an exchange) is
 * disconnected after the idle limit with its work rolled back, so the others go on.
 */
import { rmSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOnSocket, type SocketServer } from '../../src/db/socket-server.ts';
import { tempDir } from '../helpers/stores.ts';
import { waitFor } from '../helpers/wait.ts';

const IDLE_MS = 2000;
const HOLD_MS = 4000;
const MAX_MESSAGE = 1024 * 1024;

/** A raw connection that has sent its startup packet and seen ReadyForQuery. */
async function rawSession(socketFile: string) {
  const raw = net.connect(socketFile);
  const state = { closed: false, received: '' };
  raw.on('close', () => (state.closed = true));
  raw.on('error', () => {});
  raw.on('data', (d: Buffer) => (state.received += d.toString('latin1')));
  const startupBody = Buffer.from('\0\x03\0\0user\0postgres\0database\0template1\0\0', 'latin1');
  const startup = Buffer.alloc(4);
  startup.writeInt32BE(startupBody.length + 4);
  raw.write(Buffer.concat([startup, startupBody]));
  await waitFor(() => state.received.includes('Z\0\0\0\x05I'), { what: 'ReadyForQuery after the startup' });
  return { raw, state };
}

describe('a hostile client of the served store', () => {
  let dir: string;
  let pg: PGlite;
  let server: SocketServer;
  const clients: postgres.Sql[] = [];
  const client = (opts: postgres.Options<{}> = {}) => {
    const c = postgres({ host: dir, port: 5432, user: 'postgres', database: 'template1', max: 1, onnotice: () => {}, ...opts });
    clients.push(c);
    return c;
  };
  /** What the service does: a write in a transaction on a long-lived connection with prepared statements. */
  let service: postgres.Sql;
  const serviceWrites = async (v: number) => {
    await service.begin(async (tx) => {
      await tx`insert into t (owner, v) values (1, ${v})`;
    });
    const [row] = await service`select count(*)::int as n from public.t where owner = 1 and v = ${v}`;
    return row!.n;
  };

  beforeAll(async () => {
    dir = tempDir('cas-bdt-hostile-');
    pg = await PGlite.create();
    server = await serveOnSocket(pg, path.join(dir, '.s.PGSQL.5432'), {
      idleInTransactionMs: IDLE_MS,
      silentConnectionMs: IDLE_MS,
      maxHoldMs: HOLD_MS,
      maxMessageBytes: MAX_MESSAGE,
    });
    service = client({ prepare: true, max: 2 });
    await service`create table t (id serial primary key, owner int not null, v int not null)`;
    await service`create role intruder`;
  });
  afterAll(async () => {
    for (const c of clients) await c.end({ timeout: 1 }).catch(() => {});
    await server?.close();
    await pg?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves only its owner: the socket file is 0600', () => {
    expect(statSync(path.join(dir, '.s.PGSQL.5432')).mode & 0o777).toBe(0o600);
  });

  it('closes a connection that never says anything', async () => {
    const silent = net.connect(path.join(dir, '.s.PGSQL.5432'));
    let closed = false;
    silent.on('close', () => (closed = true));
    silent.on('error', () => {});
    await waitFor(() => closed, { what: 'the silent connection closed' });
    expect(await serviceWrites(1)).toBe(1);
  });

  it("keeps a client's session settings, role, temporary tables and statements from the others", async () => {
    const settings = service`select current_user as u, current_setting('default_transaction_read_only') as ro, current_setting('search_path') as sp`;
    const before = (await settings)[0];
    const hostile = client({ prepare: true });
    await hostile`create temp table t (id int, owner int, v int)`;
    await hostile`set default_transaction_read_only = on`;
    await hostile`set search_path = nowhere`;
    await hostile`select ${1}::int as prepared_by_hostile`;
    await hostile.unsafe('set session authorization intruder');
    expect((await hostile`select current_user as u`)[0]!.u).toBe('intruder');

    // Still connected, and the service writes and reads its own table as itself.
    expect(await serviceWrites(101)).toBe(1);
    const [state] =
      await service`select current_user as u, current_setting('default_transaction_read_only') as ro, current_setting('search_path') as sp`;
    expect(state).toEqual(before);
    expect(before).toMatchObject({ u: 'postgres', ro: 'off' });

    // Gone: its named statements go with it, and nothing it set is left.
    const statementsBefore = (
      await service`select count(*)::int as n from pg_prepared_statements where statement like ${'%prepared_by_hostile%'}`
    )[0]!.n;
    expect(statementsBefore).toBe(1);
    await hostile.end({ timeout: 1 });
    await waitFor(
      async () =>
        (await service`select count(*)::int as n from pg_prepared_statements where statement like ${'%prepared_by_hostile%'}`)[0]!.n === 0,
      {
        what: "the hostile client's statements deallocated",
      },
    );
    expect(await serviceWrites(102)).toBe(1);
  });

  it('disconnects a client idle inside a transaction and rolls it back; the others go on', async () => {
    const hostile = client({ prepare: false });
    let inside: () => void = () => {};
    const entered = new Promise<void>((r) => (inside = r));
    const outcome = hostile
      .begin(async (tx) => {
        await tx`insert into t (owner, v) values (2, 1)`;
        await tx`set local statement_timeout = 1`;
        inside();
        await new Promise((r) => setTimeout(r, 600_000)); // never commits
      })
      .then(
        () => 'committed',
        (err: { code?: string }) => err.code ?? 'error',
      );
    await entered;
    // The service's write waits for the idle client's turn to end, then goes through.
    expect(await serviceWrites(201)).toBe(1);
    expect(await outcome).toMatch(/25P03|CONNECTION_CLOSED|CONNECTION_DESTROYED/);
    expect((await service`select count(*)::int as n from t where owner = 2`)[0]!.n).toBe(0);
    expect((await service`select current_setting('statement_timeout') as s`)[0]!.s).toBe('0');
  });

  it('disconnects a client that stops halfway through an exchange (Parse without Sync)', async () => {
    const raw = net.connect(path.join(dir, '.s.PGSQL.5432'));
    let closed = false;
    raw.on('close', () => (closed = true));
    raw.on('error', () => {});
    const startupBody = Buffer.from('\0\x03\0\0user\0postgres\0database\0template1\0\0', 'latin1');
    const startup = Buffer.alloc(4);
    startup.writeInt32BE(startupBody.length + 4);
    const parseBody = Buffer.from('\0insert into t (owner, v) values (3, 1)\0\0\0', 'latin1');
    const parse = Buffer.alloc(5);
    parse.write('P', 0, 'latin1');
    parse.writeInt32BE(parseBody.length + 4, 1);
    let received = '';
    raw.on('data', (d: Buffer) => (received += d.toString('latin1')));
    raw.write(Buffer.concat([startup, startupBody]));
    await waitFor(() => received.includes('Z\0\0\0\x05I'), { what: 'ReadyForQuery after the startup' });
    // Parse and Flush: the statement is parsed (ParseComplete), the exchange never ends.
    raw.write(Buffer.concat([parse, parseBody, Buffer.from('H\0\0\0\x04', 'latin1')]));
    await waitFor(() => received.includes('1\0\0\0\x04'), { what: 'ParseComplete' });

    expect(await serviceWrites(301)).toBe(1);
    await waitFor(() => closed, { what: 'the half-finished client disconnected' });
    expect(received).toContain('25P03');
    expect((await service`select count(*)::int as n from t where owner = 3`)[0]!.n).toBe(0);
  });

  it('disconnects a client that holds the session past the cap however busy it keeps it, and rolls it back', async () => {
    const { raw, state } = await rawSession(path.join(dir, '.s.PGSQL.5432'));
    const query = (sql: string) => {
      const body = Buffer.from(`${sql}\0`, 'utf8');
      const head = Buffer.alloc(5);
      head.write('Q', 0, 'latin1');
      head.writeInt32BE(body.length + 4, 1);
      raw.write(Buffer.concat([head, body]));
    };
    const started = Date.now();
    query('begin; insert into t (owner, v) values (4, 1)');
    await waitFor(() => state.received.includes('Z\0\0\0\x05T'), { what: 'inside the transaction' });
    // Never idle: a statement as soon as the last one is answered, for ever.
    let answered = 0;
    raw.on('data', (d: Buffer) => {
      const n = d.toString('latin1').split('Z\0\0\0\x05T').length - 1;
      answered += n;
      for (let i = 0; i < n; i++) if (raw.writable) query('select 1');
    });
    query('select 1');
    expect(await serviceWrites(401)).toBe(1);
    await waitFor(() => state.closed, { what: 'the busy client disconnected' });
    expect(state.received).toContain('25P04');
    expect(answered).toBeGreaterThan(10);
    expect(Date.now() - started).toBeGreaterThanOrEqual(HOLD_MS - 100);
    expect((await service`select count(*)::int as n from t where owner = 4`)[0]!.n).toBe(0);
  });

  it('disconnects a client whose message announces more than the cap, before reading it', async () => {
    const { raw, state } = await rawSession(path.join(dir, '.s.PGSQL.5432'));
    const head = Buffer.alloc(5);
    head.write('Q', 0, 'latin1');
    head.writeInt32BE(1024 * 1024 * 1024, 1);
    raw.write(Buffer.concat([head, Buffer.alloc(64 * 1024, 0x20)]));
    // It keeps sending; the server has stopped listening.
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = setInterval(() => raw.writable && raw.write(chunk), 10);
    try {
      await waitFor(() => state.closed, { what: 'the client disconnected' });
    } finally {
      clearInterval(pump);
    }
    expect(state.received).toContain('54000');
    expect(await serviceWrites(501)).toBe(1);
  });

  it('accepts a message just under the cap', async () => {
    const ok = client({ prepare: false });
    const [row] = await ok.unsafe(`select length('${'x'.repeat(MAX_MESSAGE - 4096)}') as n`);
    expect(row!.n).toBe(MAX_MESSAGE - 4096);
    await ok.end({ timeout: 1 });
  });

  it('refuses statements that outlive the session, and undoes what gets through and what is prepared in SQL', async () => {
    const hostile = client({ prepare: false });
    const refused = async (q: string) =>
      hostile.unsafe(q).then(
        () => 'ran',
        (err: { code?: string; message?: string }) => `${err.code}: ${err.message}`,
      );
    expect(await refused(`ALTER SYSTEM SET work_mem = '1MB'`)).toMatch(/^42501: ALTER SYSTEM is refused/);
    expect(await refused(`/* x */ alter/**/role postgres set search_path = nowhere`)).toMatch(/^42501: ALTER ROLE is refused/);
    expect(await refused(`ALTER USER postgres SET default_transaction_read_only = on`)).toMatch(/^42501/);
    expect(await refused(`alter database template1 set default_transaction_read_only = on`)).toMatch(/^42501/);
    // Through the extended protocol too.
    expect(
      await hostile`alter role postgres set search_path = nowhere`.then(
        () => 'ran',
        (e: { code?: string }) => e.code,
      ),
    ).toBe('42501');
    // Spelled so that no text check sees it, and a statement prepared in SQL.
    await hostile.unsafe(`DO $$ BEGIN EXECUTE 'AL' || 'TER ROLE postgres SET default_transaction_read_only = on'; END $$`);
    await hostile.unsafe(`PREPARE leftover AS SELECT 42`);
    expect((await hostile`select count(*)::int as n from pg_db_role_setting`)[0]!.n).toBe(1);

    // The session passes to the service: nothing of it is left, with the client still connected.
    const [after] = await service`select (select count(*)::int from pg_db_role_setting) as settings,
      (select count(*)::int from pg_prepared_statements where from_sql) as prepared`;
    expect(after).toEqual({ settings: 0, prepared: 0 });
    expect(await serviceWrites(601)).toBe(1);
    await hostile.end({ timeout: 1 });
  });

  it('answers an SSL request with N and takes a startup and a query sent a byte at a time', async () => {
    const raw = net.connect(path.join(dir, '.s.PGSQL.5432'));
    let received = '';
    raw.on('data', (d: Buffer) => (received += d.toString('latin1')));
    raw.on('error', () => {});
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    raw.write(ssl);
    await waitFor(() => received === 'N', { what: 'N to the SSL request' });
    const startupBody = Buffer.from('\0\x03\0\0user\0postgres\0database\0template1\0\0', 'latin1');
    const startup = Buffer.alloc(4);
    startup.writeInt32BE(startupBody.length + 4);
    const queryBody = Buffer.from('select 6 * 7 as answer\0', 'utf8');
    const queryHead = Buffer.alloc(5);
    queryHead.write('Q', 0, 'latin1');
    queryHead.writeInt32BE(queryBody.length + 4, 1);
    const bytes = Buffer.concat([startup, startupBody, queryHead, queryBody]);
    for (const b of bytes) await new Promise<void>((r) => raw.write(Buffer.from([b]), () => r()));
    await waitFor(() => received.includes('42') && received.endsWith('Z\0\0\0\x05I'), { what: 'the answer to the query' });
    raw.destroy();
  });
});
