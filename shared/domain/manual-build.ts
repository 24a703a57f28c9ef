import type { ManualBuildEvent } from './events';

/**
 * The event key of a manual build's delivery record. Not a Bitbucket key: the admin API records
 * these, already decided, and the processor sends their trigger.
 */
export const MANUAL_BUILD_EVENT_KEY = 'hookgate:manual-build';

/** What a manual build's delivery record holds as its body: the event without its envelope. */
export type ManualBuild = Omit<ManualBuildEvent, 'kind' | 'provider' | 'eventKey'>;
