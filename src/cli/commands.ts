/**
 * Every command, in the order `--help` lists them. Each is one module of commands/ that
 * adds itself to its parent here: a new command is a new module and one line below.
 */
import type { Command } from '@commander-js/extra-typings';
import { registerAssignCommand } from './commands/assign.ts';
import { registerCasDecide } from './commands/cas-decide.ts';
import { registerCasDelete } from './commands/cas-delete.ts';
import { registerCasFees } from './commands/cas-fees.ts';
import { registerCasList } from './commands/cas-list.ts';
import { registerCasNote } from './commands/cas-note.ts';
import { registerCasShow } from './commands/cas-show.ts';
import { registerCasStatement } from './commands/cas-statement.ts';
import { registerCasStatements } from './commands/cas-statements.ts';
import { registerCasUse } from './commands/cas-use.ts';
import { registerCasWithdraw } from './commands/cas-withdraw.ts';
import { registerComplianceCommand } from './commands/compliance.ts';
import { registerConsoleCommand } from './commands/console.ts';
import { registerDbMigrate } from './commands/db-migrate.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerExpireCommand } from './commands/expire.ts';
import { registerExportCommand } from './commands/export.ts';
import { registerExportsCommand } from './commands/exports.ts';
import { registerProcessCommand } from './commands/process.ts';
import { registerRerunCommand } from './commands/rerun.ts';
import { registerSponsorAdd } from './commands/sponsor-add.ts';
import { registerSponsorAllocate } from './commands/sponsor-allocate.ts';
import { registerSponsorList } from './commands/sponsor-list.ts';
import { registerSponsorSet } from './commands/sponsor-set.ts';
import { registerSponsorShow } from './commands/sponsor-show.ts';
import { registerSponsorStatus } from './commands/sponsor-status.ts';
import { registerSubmissionsShow } from './commands/submissions-show.ts';
import { registerSubmissionsCommand } from './commands/submissions.ts';
import { registerValidateCommand } from './commands/validate.ts';
import { registerWatchCommand } from './commands/watch.ts';
import type { Runner } from './context.ts';

export function registerCommands(program: Command, run: Runner): void {
  const sponsor = program.command('sponsor').description('manage sponsors, their allocation and licence status');
  for (const add of [
    registerSponsorAdd,
    registerSponsorShow,
    registerSponsorList,
    registerSponsorAllocate,
    registerSponsorSet,
    registerSponsorStatus,
  ])
    add(sponsor, run);
  registerProcessCommand(program, run);
  registerSubmissionsShow(registerSubmissionsCommand(program, run), run);
  registerRerunCommand(program, run);
  registerValidateCommand(program, run);
  registerDemoCommand(program, run);
  const cas = program.command('cas').description('look at CAS and change their status');
  for (const add of [
    registerCasShow,
    registerCasList,
    registerCasDelete,
    registerCasWithdraw,
    registerCasUse,
    registerCasFees,
    registerCasNote,
    registerCasStatement,
    registerCasStatements,
    registerCasDecide,
  ])
    add(cas, run);
  registerAssignCommand(program, run);
  registerExpireCommand(program, run);
  registerExportCommand(program, run);
  registerExportsCommand(program, run);
  registerComplianceCommand(program, run);
  registerWatchCommand(program, run);
  registerConsoleCommand(program, run);
  registerDbMigrate(program.command('db').description('database maintenance'), run);
}
