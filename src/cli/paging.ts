/**
 * `--limit` and `--offset` for the listing commands: on a terminal a listing shows one page
 * (a sponsor's CAS can be tens of thousands of rows) and says how to see more; piped or
 * redirected, it is complete unless `--limit` says otherwise.
 */
import { Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import type { Context } from './context.ts';
import { wholeNumber } from './parse.ts';

/** Rows a listing shows on a terminal when no `--limit` is given. */
const TERMINAL_PAGE = 50;

const MAX_ROWS = 1_000_000_000;

export function addPagingOptions<Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(
  cmd: Command<Args, Opts, Globals>,
) {
  return cmd
    .addOption(
      new Option('--limit <n>', `show at most N rows, 0 for all (default ${TERMINAL_PAGE} on a terminal, all otherwise)`).argParser(
        wholeNumber(0, MAX_ROWS),
      ),
    )
    .addOption(new Option('--offset <n>', 'skip the first N rows').argParser(wholeNumber(0, MAX_ROWS)));
}

interface Paging {
  /** Undefined: every row. */
  limit: number | undefined;
  offset: number;
}

export function pagingOf(ctx: Context, opts: { limit?: number | undefined; offset?: number | undefined }): Paging {
  const given = opts.limit;
  const limit = given === undefined ? (ctx.io.stdoutIsTTY ? TERMINAL_PAGE : undefined) : given === 0 ? undefined : given;
  return { limit, offset: opts.offset ?? 0 };
}

/** The line under a page that is not the whole listing: which rows, of how many, and how to see the rest. */
export function pageFooter(paging: Paging, shown: number, total: number): string | undefined {
  if (paging.offset === 0 && shown >= total) return undefined;
  const range = shown === 0 ? `none of ${total}` : `${paging.offset + 1}-${paging.offset + shown} of ${total}`;
  const next = paging.offset + shown < total ? `; --offset ${paging.offset + shown} for the next, --limit 0 for all` : '';
  return `Showing ${range}${next}.`;
}

/**
 * pageFooter for a listing read from the store: when the page is the whole listing (no
 * limit, no offset) its length is the total; otherwise the store is asked (`countAll`).
 */
export async function listingFooter(paging: Paging, shown: number, countAll: () => Promise<number>): Promise<string | undefined> {
  return pageFooter(paging, shown, paging.limit === undefined && paging.offset === 0 ? shown : await countAll());
}
