/**
 * What an operator action did: done (with what it returns), or the thing it names does not
 * exist, or it was refused with a message for the operator. Refusals and unknown
 * references are data, not exceptions; the CLI maps them to exit codes 3 and 4.
 */
export type Outcome<T = object> = ({ kind: 'done' } & T) | { kind: 'not-found'; what?: string } | { kind: 'refused'; message: string };

export const refused = (message: string): Outcome<never> => ({ kind: 'refused', message });

export const notFound = (what?: string): Outcome<never> => (what === undefined ? { kind: 'not-found' } : { kind: 'not-found', what });
