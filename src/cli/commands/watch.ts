/**
 * `cas-bdt watch`: the service. Runs until SIGINT or SIGTERM, then stops taking files,
 * finishes the ones in progress, closes everything and exits 0. A second signal exits at
 * once (130); a restart finishes whatever that interrupted. SIGHUP (a closed terminal, or
 * an operator who wants a look now) lists every inbox at once and never stops it.
 *
 * On the embedded store the service owns the data directory and serves it on a socket,
 * so the other commands keep working while it runs; a second service is refused.
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { coerceError, describeError, isCasBdtError, sqlState } from '../../errors.ts';
import { isLoopback } from '../../http/address.ts';
import { ensureTokenFile } from '../../http/token.ts';
import type { Store } from '../../ops/store.ts';
import type { WatchService } from '../../service/service.ts';
import type { Runner } from '../context.ts';
import { SIGNALS_HELP } from '../help.ts';
import { watchLauncher } from '../launcher.ts';
import { wholeNumber } from '../parse.ts';
import { createdMessage } from '../store-info.ts';

/**
 * Tests only: CAS_BDT_TEST_DELIVERY_PAUSE=before-file|after-file stops every export
 * delivery for good at that point, so that a test can kill the process there.
 */
function testDeliveryPause(value: string | undefined): 'before-file' | 'after-file' | undefined {
  return value === 'before-file' || value === 'after-file' ? value : undefined;
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
      new Option('--log-format <format>', 'log lines for people (text) or log shippers (json, with level names and ISO times)')
        .choices(['text', 'json'])
        .default('text'),
    )
    .addHelpText('after', SIGNALS_HELP)
    .action(
      run(async (ctx, opts) => {
        // Loaded when the service starts, so that --help and other commands start without them.
        const [{ openStore, openServedStore }, { createLogger, fatalFields }, { startService }] = await Promise.all([
          import('../../ops/store.ts'),
          import('../../log.ts'),
          import('../../service/service.ts'),
        ]);
        const cfg = ctx.config;
        const leaseMs = opts.leaseMs ?? 30_000;
        const httpAddress = cfg.http;
        const log = createLogger({ write: ctx.io.stderr, format: opts.logFormat });

        log.info(`cas-bdt watch: root ${cfg.rootDir}`);
        for (const flag of cfg.secretsOnCommandLine) {
          log.warn(
            `${flag} was given on the command line, where every local user can read it (ps): use its environment variable or --http-token-file`,
          );
        }
        // From the start: SIGHUP's default action would end the process.
        let service: WatchService | undefined;
        let http: { close(): Promise<void> } | undefined;
        const onHangup = () => {
          if (!service) return void log.info('SIGHUP while starting: every inbox is listed once the service is ready');
          log.info('SIGHUP: listing every inbox now');
          void service.rescan().then(() => log.info('SIGHUP rescan finished'));
        };
        process.on('SIGHUP', onHangup);
        // SIGUSR2's default action would end the process too. One that arrives while the service starts is kept for when it is ready.
        let user2Waiting = false;
        const onUser2 = () => {
          if (!service) {
            user2Waiting = true;
            return void log.info('SIGUSR2 while starting: the exports are delivered once the service is ready');
          }
          const round = service.deliverExports();
          if (!round) return void log.info('SIGUSR2: export deliveries are off (see --export-every)');
          log.info('SIGUSR2: delivering exports now');
          void round.then(
            (r) => log.info({ delivered: r.delivered.length, failed: r.failed }, 'SIGUSR2 export round finished'),
            (err: unknown) => log.warn({ err: describeError(err) }, 'SIGUSR2 export round failed'),
          );
        };
        process.on('SIGUSR2', onUser2);
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
          process.off('SIGUSR2', onUser2);
          throw err;
        }
        log.info(`store: ${store.describe}`);
        if (store.created) log.warn(createdMessage(cfg.dataDir).replace(/^cas-bdt: /, ''));
        // The console's token: given as a setting, or the file's (made on the first start).
        let httpToken = cfg.httpToken;
        if (httpAddress !== 'off' && httpToken === undefined) {
          try {
            const t = ensureTokenFile(cfg.httpTokenFile);
            httpToken = t.token;
            if (t.created) log.info(`console token created in ${cfg.httpTokenFile} (0600); cas-bdt console prints the login link`);
          } catch (err) {
            // As with a port in use: the files go on being processed; the console waits for a fix.
            const message = isCasBdtError(err) ? err.message : `cannot create ${cfg.httpTokenFile}: ${describeError(err).message}`;
            log.warn(`HTTP not served (the console token: ${message}); the service runs on without it`);
          }
        }
        const serveHttp = httpAddress !== 'off' && httpToken !== undefined;
        if (httpAddress !== 'off' && !isLoopback(httpAddress.host)) {
          log.warn(`HTTP on ${httpAddress.host} is reachable from other machines in plain text: put a TLS-terminating proxy in front`);
        }

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
          /node_modules[\\/]postgres[\\/]/.test(coerceError(err).stack ?? '') || sqlState(err) !== undefined;
        let resetting: Promise<void> | undefined;
        const resetPool = () => {
          if (store.reset) resetting ??= store.reset().finally(() => (resetting = undefined));
        };
        const onStray = (err: unknown, origin: string) => {
          if (!fromDriver(err)) {
            log.fatal(fatalFields(err), 'unexpected error; stopping (a restart finishes what was in progress)');
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
        const metrics = !serveHttp ? undefined : (await import('../../http/metrics.ts')).createMetrics();
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
            groupFiles: cfg.groupFiles,
            poll: cfg.poll,
            maxFileBytes: cfg.maxFileBytes,
            settings: {
              feePence: cfg.feePence,
              validityMonths: cfg.validityMonths,
              validateTimeoutMs: cfg.validateTimeoutMs,
              holidays: cfg.holidays,
            },
            leaseMs,
            log,
            minFreeBytes: cfg.minFreeBytes,
            // The embedded store's data directory may be on another file system than the tree.
            diskPaths: cfg.databaseUrl ? [cfg.rootDir] : [cfg.rootDir, cfg.dataDir],
            retainDays: cfg.retainDays,
            exportEveryMs: cfg.exportEveryMs,
            deliveryPause: testDeliveryPause(ctx.io.env.CAS_BDT_TEST_DELIVERY_PAUSE),
            onFileProcessed: metrics?.fileProcessed,
          });
          if (user2Waiting) onUser2();
          if (metrics && httpToken !== undefined) {
            metrics.attach(service, store.db);
            const { startHttp } = await import('../../http/server.ts');
            http = await startHttp(httpAddress, {
              db: store.db,
              rootDir: cfg.rootDir,
              live: service,
              metrics,
              token: httpToken,
              hosts: cfg.httpHosts,
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
          process.off('SIGUSR2', onUser2);
          process.off('unhandledRejection', onRejection);
          process.off('uncaughtException', onException);
        }
      }),
    );
}
