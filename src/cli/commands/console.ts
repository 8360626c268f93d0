/**
 * `cas-bdt console`: the console's address and a login link for it. The link carries the
 * token from the token file that `watch` created (0600), so only the service's user (or
 * root) can print it; the link sets the console's cookie and leads to the overview.
 */
import type { Command } from '@commander-js/extra-typings';
import { isLoopback } from '../../http/address.ts';
import { readTokenFile } from '../../http/token.ts';
import { failed, notFound, type Runner } from '../context.ts';

/** The address a browser on this machine uses: the any address is reached on loopback. */
function browserHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export function registerConsoleCommand(program: Command, run: Runner): void {
  program
    .command('console')
    .description("print the console's address and a login link for it (reads the token file: run it as the service's user)")
    .option('--json', 'print JSON: {"url","login","tokenFile"}')
    .action(
      run(async (ctx, opts) => {
        const cfg = ctx.config;
        if (cfg.http === 'off') throw failed('the console is off (--http off): nothing to log in to');
        for (const flag of cfg.secretsOnCommandLine) {
          ctx.err(`cas-bdt: warning: ${flag} was given on the command line, where every local user can read it (ps)`);
        }
        const token = cfg.httpToken ?? readTokenFile(cfg.httpTokenFile);
        if (token === undefined) {
          throw notFound(
            `the console token file ${cfg.httpTokenFile} (cas-bdt watch creates it when it first starts; the same --data or --http-token-file)`,
          );
        }
        const url = `http://${browserHost(cfg.http.host)}:${cfg.http.port}/`;
        const login = `${url}login?key=${encodeURIComponent(token)}`;
        if (opts.json) return ctx.json({ url, login, tokenFile: cfg.httpToken === undefined ? cfg.httpTokenFile : null });
        ctx.out(
          [
            `The console: ${url}`,
            `Log in (sets a cookie in the browser, then opens the overview; keep this link to yourself):`,
            `  ${login}`,
            `Scripts: Authorization: Bearer <the token in ${cfg.httpToken === undefined ? cfg.httpTokenFile : 'CAS_BDT_HTTP_TOKEN'}>`,
            ...(isLoopback(cfg.http.host)
              ? []
              : ['From another machine: through an SSH tunnel or a TLS proxy, under a name given with --http-host.']),
          ].join('\n'),
        );
      }),
    );
}
