/**
 * The embedded store served on a Unix socket: several postgres.js clients at once, with
 * the extended protocol, transactions, row locks, `returning` and jsonb, must each see
 * their own results (PGlite is one session shared by all), and a client that dies inside
 * a transaction must not leave it open for the others.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOnSocket, type SocketServer } from '../../src/db/socket-server.ts';
import { tempDir } from '../helpers/stores.ts';

describe('PGlite served on a socket', () => {
  let dir: string;
  let pg: PGlite;
  let server: SocketServer;
  const clients: postgres.Sql[] = [];
  const client = (opts: postgres.Options<{}> = {}) => {
    const c = postgres({ host: dir, port: 5432, user: 'postgres', database: 'template1', max: 3, onnotice: () => {}, ...opts });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = tempDir('cas-bdt-socket-');
    pg = await PGlite.create();
    // A socket file left by a killed server is replaced.
    writeFileSync(path.join(dir, '.s.PGSQL.5432'), '');
    server = await serveOnSocket(pg, path.join(dir, '.s.PGSQL.5432'));
    await client()`create table t (id serial primary key, owner int not null, v int not null, doc jsonb not null)`;
  });
  afterAll(async () => {
    for (const c of clients) await c.end({ timeout: 1 }).catch(() => {});
    await server?.close();
    expect(existsSync(path.join(dir, '.s.PGSQL.5432'))).toBe(false);
    await pg?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps concurrent clients and their transactions apart', async () => {
    const work = async (c: postgres.Sql, owner: number) => {
      let wrong = 0;
      for (let i = 0; i < 60; i++) {
        const x = owner * 1000 + i;
        const [r] = await c`select ${x}::int as x, ${`s${x}`}::text as s`;
        if (r!.x !== x || r!.s !== `s${x}`) wrong++;
        if (i % 6 === 0) {
          await c.begin(async (tx) => {
            const [row] = await tx`insert into t (owner, v, doc) values (${owner}, ${x}, ${tx.json({ x, owner })}) returning id, v`;
            const [locked] = await tx`select v, doc from t where id = ${row!.id} for update`;
            if (locked!.v !== x || (locked!.doc as { x: number }).x !== x) wrong++;
            await tx`update t set v = v + 1 where id = ${row!.id}`;
          });
        }
      }
      return wrong;
    };
    const a = client({ prepare: false });
    const b = client({ prepare: false });
    const c = client({ prepare: true });
    const wrong = await Promise.all([work(a, 1), work(a, 2), work(b, 3), work(b, 4), work(c, 5), work(c, 6)]);
    expect(wrong).toEqual([0, 0, 0, 0, 0, 0]);
    const counts = await a`select owner, count(*)::int as n, bool_and(v = (doc->>'x')::int + 1) as ok from t group by owner order by owner`;
    expect(counts.map((r) => [r.owner, r.n, r.ok])).toEqual([1, 2, 3, 4, 5, 6].map((o) => [o, 10, true]));
  });

  it('rolls back the transaction of a client that goes away inside it', async () => {
    const quitter = postgres({
      host: dir,
      port: 5432,
      user: 'postgres',
      database: 'template1',
      max: 1,
      prepare: false,
      onnotice: () => {},
    });
    let inside: () => void = () => {};
    const entered = new Promise<void>((r) => (inside = r));
    const abandoned = quitter
      .begin(async (tx) => {
        await tx`insert into t (owner, v, doc) values (99, 1, '{}'::jsonb)`;
        inside();
        await new Promise(() => {}); // never commits
      })
      .catch(() => 'gone');
    await entered;
    // The process dies: its connection closes mid-transaction.
    await quitter.end({ timeout: 0 });
    expect(await abandoned).toBe('gone');
    const other = client({ prepare: false });
    const [row] = await other`select count(*)::int as n from t where owner = 99`;
    expect(row!.n).toBe(0);
    await other.begin(async (tx) => {
      await tx`insert into t (owner, v, doc) values (98, 1, '{}'::jsonb)`;
    });
    expect((await other`select count(*)::int as n from t where owner = 98`)[0]!.n).toBe(1);
  });
});
