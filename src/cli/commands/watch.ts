/**
 * `cas-bdt watch`: the service. Runs until SIGINT or SIGTERM, then stops taking files,
 * finishes the ones in progress, closes everything and exits 0. A second signal exits at
 * once (130); a restart finishes whatever that interrupted. SIGHUP (a closed terminal, or
 * an operator who wants a look now) lists every inbox at once and never stops it.
 *
 * On the embedded store the service owns the data directory and serves it on a socket,
 * so the other commands keep working while it runs; a second service is refused.
 */
import { Option, type Command } from 'commander';
import { describeError, sqlState } from '../../errors.ts';
import { DEFAULT_HTTP, isLoopback, parseHttpAddress, type HttpAddress } from '../../http/address.ts';
import type { Store } from '../../ops/store.ts';
import type { WatchService } from '../../service/service.ts';
import { usage, type Runner } from '../context.ts';
import { SIGNALS_HELP } from '../help.ts';
import { watchLauncher } from '../launcher.ts';
import { wholeNumber } from '../parse.ts';
import { createdMessage } from '../store-info.ts';

/** `--http` checked before anything starts: a bad address, or a non-loopback one without a token, is a usage error. */
function checkedHttp(value: string, token: string | undefined): HttpAddress {
  const address = parseHttpAddress(value);
  if (token !== undefined && token.length < 16) throw usage('--http-token must be at least 16 characters');
  if (address !== 'off' && !isLoopback(address.host) && !token) {
    throw usage(`--http ${value} is reachable from other machines: give --http-token (or CAS_BDT_HTTP_TOKEN), and put TLS in front`);
  }
  return address;
}

export function registerWatchCommand(program: Command, run: Runner): void {
  program
    .command('watch')
    .description("watch every sponsor's inbox and process files until SIGINT or SIGTERM")
    .addOption(
      new Option('--lease-ms <ms>', 'how long a claim on a file outlives a stuck instance (default 30000)')
        .argParser(wholeNumber(100, 86_400_000))
        .hideHelp(),
    )
    .addOption(
      new Option(
        '--http <addr>',
        `serve the console, /healthz and /metrics on HOST:PORT, or off (env CAS_BDT_HTTP; default ${DEFAULT_HTTP})`,
      ),
    )
    .addOption(
      new Option(
        '--http-token <token>',
        'bearer token the HTTP surface requires, needed for a non-loopback address (env CAS_BDT_HTTP_TOKEN)',
      ),
    )
    .addOption(
      new Option('--log-format <format>', 'log lines for people (text) or log shippers (json, with level names and ISO times)')
        .choices(['text', 'json'])
        .default('text'),
    )
    .addHelpText('after', SIGNALS_HELP)
    .action(
      run(async (ctx, opts) => {
        // Loaded when the service starts, so that --help and other commands start without them.
        const [{ openStore, openServedStore }, { createLogger }, { startService }] = await Promise.all([
          import('../../ops/store.ts'),
          import('../../log.ts'),
          import('../../service/service.ts'),
        ]);
        const cfg = ctx.config;
        const leaseMs = (opts.leaseMs as number | undefined) ?? 30_000;
        const httpToken = (opts.httpToken as string | undefined) ?? (ctx.io.env.CAS_BDT_HTTP_TOKEN || undefined);
        const httpAddress = checkedHttp(String(opts.http ?? (ctx.io.env.CAS_BDT_HTTP || DEFAULT_HTTP)), httpToken);
        const log = createLogger({ write: ctx.io.stderr, format: opts.logFormat === 'json' ? 'json' : 'text' });

        log.info(`cas-bdt watch: root ${cfg.rootDir}`);
        // From the start: SIGHUP's default action would end the process.
        let service: WatchService | undefined;
        let http: { close(): Promise<void> } | undefined;
        const onHangup = () => {
          if (!service) return void log.info('SIGHUP while starting: every inbox is listed once the service is ready');
          log.info('SIGHUP: listing every inbox now');
          void service.rescan().then(() => log.info('SIGHUP rescan finished'));
        };
        process.on('SIGHUP', onHangup);
        let store: Store;
        try {
          store = cfg.databaseUrl
            ? await openStore({
                databaseUrl: cfg.databaseUrl,
                databasePassword: cfg.databasePassword,
                dataDir: cfg.dataDir,
                maxConnections: cfg.concurrency + 4,
                fetchTypes: false,
              })
            : await openServedStore({ dataDir: cfg.dataDir, maxConnections: cfg.concurrency + 4, fetchTypes: false });
        } catch (err) {
          process.off('SIGHUP', onHangup);
          throw err;
        }
        log.info(`store: ${store.describe}`);
        if (store.created) log.warn(createdMessage(cfg.dataDir).replace(/^cas-bdt: /, ''));

        let signalled = 0;
        let wake: (signal: string) => void = () => {};
        const stopRequested = new Promise<string>((resolve) => (wake = resolve));
        const onSignal = (signal: NodeJS.Signals) => {
          signalled++;
          if (signalled === 1) {
            log.info(`${signal}: no new files; finishing the ones in progress (send it again to stop at once)`);
            wake(signal);
            return;
          }
          log.warn(`${signal} again: stopping at once; the next start finishes what was interrupted`);
          process.exit(130);
        };
        // The service must outlive a database outage. postgres.js 3.4.9 lets errors escape
        // from connections the server closed: the promise of its type query is dropped,
        // and the ROLLBACK of a transaction whose connection died is written to the dead
        // socket from a timer, which throws there and leaves that connection unusable for
        // good. Log those; for the second, replace the pool. Every file's own work is
        // caught and retried anyway. Anything else escaping is a bug: stop (exit 1) and
        // let the restart finish what was in progress.
        const fromDriver = (err: unknown) =>
          /node_modules[\\/]postgres[\\/]/.test((err as Error)?.stack ?? '') || sqlState(err) !== undefined;
        let resetting: Promise<void> | undefined;
        const resetPool = () => {
          if (store.reset) resetting ??= store.reset().finally(() => (resetting = undefined));
        };
        const onStray = (err: unknown, origin: string) => {
          if (!fromDriver(err)) {
            log.fatal(
              { err: describeError(err), stack: (err as Error)?.stack },
              'unexpected error; stopping (a restart finishes what was in progress)',
            );
            process.exit(1);
          }
          if (origin === 'unhandledRejection' || !store.reset) {
            log.warn({ err: describeError(err) }, 'database driver error outside any query; carrying on');
            return;
          }
          log.warn({ err: describeError(err) }, 'database connection broken by the driver; opening a new pool');
          resetPool();
        };
        const onRejection = (err: unknown) => onStray(err, 'unhandledRejection');
        const onException = (err: unknown) => onStray(err, 'uncaughtException');
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        // Under `npx`, a SIGTERM reaches npm and its shell, not this process: stop when they are gone.
        const stopWatchingLauncher = watchLauncher(ctx.io.env, () => {
          log.info('the npm process that started cas-bdt has gone');
          onSignal('SIGTERM');
        });
        process.on('unhandledRejection', onRejection);
        process.on('uncaughtException', onException);
        const metrics = httpAddress === 'off' ? undefined : (await import('../../http/metrics.ts')).createMetrics();
        try {
          service = await startService({
            db: store.db,
            openSession: () => store.session(),
            // A lost connection can leave postgres.js's pool with a connection that never
            // works again (see Store.reset): start the retries on a fresh pool.
            onConnectionLost: resetPool,
            rootDir: cfg.rootDir,
            settleMs: cfg.settleMs,
            scanIntervalMs: cfg.scanIntervalMs,
            concurrency: cfg.concurrency,
            poll: cfg.poll,
            maxFileBytes: cfg.maxFileBytes,
            settings: { feePence: cfg.feePence, validityMonths: cfg.validityMonths, validateTimeoutMs: cfg.validateTimeoutMs },
            leaseMs,
            log,
            ...(metrics ? { onFileProcessed: metrics.fileProcessed } : {}),
          });
          if (metrics) {
            metrics.attach(service);
            const { startHttp } = await import('../../http/server.ts');
            http = await startHttp(httpAddress, {
              db: store.db,
              rootDir: cfg.rootDir,
              live: service,
              metrics,
              token: httpToken,
              log,
              holidays: cfg.holidays,
            });
          }
          await stopRequested;
          await http?.close().catch((err: unknown) => log.warn({ err: describeError(err) }, 'HTTP server did not close cleanly'));
          await service.stop();
          log.info('stopped');
          return 0;
        } finally {
          stopWatchingLauncher();
          await resetting;
          await store.close();
          // postgres.js 3.4.9 can be left holding a connection it opened for a pool already
          // ended (seen after the server restarted under the service), which would keep the
          // stopped process alive for good. Nothing of ours is left: exit if still here.
          if (signalled) setTimeout(() => process.exit(process.exitCode ?? 0), 5000).unref();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          process.off('SIGHUP', onHangup);
          process.off('unhandledRejection', onRejection);
          process.off('uncaughtException', onException);
        }
      }),
    );
}
