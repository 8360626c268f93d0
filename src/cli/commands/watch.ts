/** `cas-bdt watch`: the service. */
import type { Command } from 'commander';
import type { Runner } from '../main.ts';

export function registerWatchCommand(_program: Command, _run: Runner): void {}
