/** CAS lifecycle commands: assign, cas delete|withdraw|use, expire, export. */
import type { Command } from 'commander';
import type { Runner } from '../main.ts';

export function registerLifecycleCommands(_program: Command, _run: Runner): void {}
