/**
 * Visa decisions (spec section 10): the Home Office's decision on an application made with a
 * USED CAS. One per CAS; a second is refused unless it is a correction. The date may lie in
 * the past (history entered late), never after today.
 */
import { isAfter } from './dates.ts';
import type { CasStatus } from './types.ts';

export const DECISIONS = ['granted', 'refused'] as const;
export type Decision = (typeof DECISIONS)[number];

interface DecisionState {
  status: CasStatus;
  decision: Decision | null;
  decidedOn: string | null;
}

/** Why this decision cannot be recorded, or undefined when it can. */
export function decisionProblem(what: string, c: DecisionState, date: string, today: string, correct: boolean): string | undefined {
  if (isAfter(date, today)) return `the decision date ${date} is after today (${today})`;
  if (c.status !== 'USED') return `${what} has status ${c.status}; a visa decision can be recorded only on a USED CAS`;
  if (c.decision && !correct) return `${what} already has a decision (${c.decision} on ${c.decidedOn}); give --correct to replace it`;
  if (!c.decision && correct) return `${what} has no decision to correct; record one without --correct`;
  return undefined;
}
