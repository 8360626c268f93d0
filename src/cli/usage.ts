/**
 * What a usage error prints after its message: the command's one-line usage and where to
 * read more, instead of the whole help (which buries the message and commander's
 * suggestion under sixty lines).
 */
import type { CommandUnknownOpts as Command } from '@commander-js/extra-typings';

/** `cas-bdt cas list`: the command's name with its parents'. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The two lines after a usage error's message. */
export function usageHint(cmd: Command): string {
  const name = commandPath(cmd);
  return `Usage: ${name} ${cmd.usage()}\nRun '${name} --help' for every option.`;
}
