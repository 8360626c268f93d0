/** Text at the end of `--help`: exit codes and signals (cli.md). */

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure that is not the input's fault (database down, disk full, bug)
  2  usage error (unknown command or option, bad argument)
  3  refused: a file REJECTED or none of its records accepted, a CAS operation not allowed in its status,
     allocation too small
  4  not found: unknown sponsor, CAS number, batch or submission
With --json, an error also prints {"error":{"code","message"}} on stdout.`;

export const SIGNALS_HELP = `
Signals (watch):
  SIGTERM, SIGINT  stop taking files, finish the ones in progress, exit 0 (a second one: exit 130 at once)
  SIGHUP           list every inbox now; never stops the service
  SIGUSR2          with --export-every: deliver the exports of whatever changed now, without waiting for the period`;
