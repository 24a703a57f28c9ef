/**
 * Receives before `deliveries.fifo` dead-letters a message: on AWS (infra/queues.ts) and in local
 * mode alike. Only a backstop: the processor parks a delivery after PARK_AFTER_FAILURES (3) failures
 * of its own; a group-mate handed back with it is received as often, so this outlasts five poison
 * deliveries ahead of it in its group (see functions/processor/app.ts).
 */
export const DELIVERIES_MAX_RECEIVE_COUNT = 15;
/** Receives before `triggers.fifo` dead-letters a message (a runner that keeps failing on it). */
export const TRIGGERS_MAX_RECEIVE_COUNT = 5;
