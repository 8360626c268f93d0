/**
 * The reader of strace output behind the durability checks (chaos scenario 6 and the
 * embedded-durability test), on traces written as strace writes them.
 */
import { describe, expect, it } from 'vitest';
import { flushOrder } from '../../chaos/flush-order.ts';

const TMP = '/w/bdt/DUR000001/outbox/.16358.a157e43f.e55e8c3654af.tmp';
const RESULT = '/w/bdt/DUR000001/outbox/p-0003.result.xml';
const WAL = '/w/data/pglite/pg_wal/000000010000000000000001';

const write = (pid: number) => `${pid} write(121<${TMP}>, "<?xml version=\\"1.0\\" encoding=\\"UT"..., 95417) = 95417`;
const link = (pid: number) => `${pid} link("${TMP}", "${RESULT}") = 0`;

describe('flushOrder', () => {
  it('joins a flush that strace split across lines, with the padding strace puts before its result', () => {
    const trace = [
      write(16365),
      `16367 fsync(121<${TMP}> <unfinished ...>`,
      '16358 write(16<anon_inode:[eventfd]>, "\\1\\0\\0\\0\\0\\0\\0\\0", 8) = 8',
      '16367 <... fsync resumed>)              = 0',
      link(16368),
    ].join('\n');
    expect(flushOrder(trace)).toEqual({ results: 1, walFlushes: 0, unflushed: [] });
  });

  it('reports a result linked while its own flush has not returned', () => {
    const trace = [
      write(16365),
      `16367 fsync(121<${TMP}> <unfinished ...>`,
      link(16368),
      '16367 <... fsync resumed>)              = 0',
    ].join('\n');
    expect(flushOrder(trace).unflushed).toEqual([`${RESULT}: linked before its content was flushed`]);
  });

  it('reports a result linked after a WAL write that no flush followed, and not once a padded flush did', () => {
    const walWrite = `16360 pwrite64(30<${WAL}>, "\\22\\321\\5\\0"..., 8192, 0) = 8192`;
    const flushed = [`16360 fdatasync(30<${WAL}> <unfinished ...>`, '16360 <... fdatasync resumed>)        = 0'];
    const before = [walWrite, `16367 fsync(121<${TMP}>) = 0`];
    expect(flushOrder([...before, link(16368)].join('\n')).unflushed).toEqual([
      `${RESULT}: linked before the WAL written for it was flushed`,
    ]);
    expect(flushOrder([...before, ...flushed, link(16368)].join('\n'))).toEqual({ results: 1, walFlushes: 1, unflushed: [] });
  });
});
