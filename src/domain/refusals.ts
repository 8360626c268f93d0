/**
 * What operator actions say when they refuse for the sponsor's sake (its licence, routes
 * or allocation); refusals for a CAS's status are `refusalMessage` in lifecycle.ts.
 */
import { human } from './lifecycle.ts';

export const licenceNotActive = (licence: string, status: string) =>
  `the sponsor licence ${licence} is ${status}; CAS can be assigned only while it is active`;

export const routesNotLicensed = (licence: string, routes: string[]) =>
  `the sponsor ${licence} is not licensed for the ${routes.join(' and ')} route; nothing was assigned`;

export const routeNotLicensed = (licence: string, route: string) => `sponsor ${licence} is not licensed for the ${route} route`;

/** "2 ASSIGNED, 1 WORK IN PROGRESS" from counts by status. */
const statusSummary = (counts: { status: string; n: number }[]) =>
  counts.length ? counts.map((r) => `${r.n} ${human(r.status)}`).join(', ') : 'no CAS at all';

export const nothingReadyInBatch = (batch: string, counts: { status: string; n: number }[]) =>
  `batch ${batch} has no READY TO GO CAS to assign (it has ${statusSummary(counts)})`;

export function allocationShort(what: string, wanted: number, licence: string, a: { granted: number; used: number }): string {
  return (
    `${what} has ${wanted} READY TO GO CAS but the unused allocation of ${licence} is ${Math.max(0, a.granted - a.used)} ` +
    `(granted ${a.granted}, used ${a.used}); nothing was assigned`
  );
}

export const sponsorExists = (licence: string) => `sponsor ${licence} already exists`;

/** `sponsor set --routes` only adds: taking a route away cancels its ASSIGNED CAS, which is surrendering it. */
export const routeRemovedBySet = (licence: string, route: string) =>
  `removing a route cancels its ASSIGNED CAS: surrender it with \`cas-bdt sponsor status ${licence} surrendered --route ${route}\``;
