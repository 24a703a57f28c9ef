import { createHash } from 'node:crypto';
import type { DecisionRefType } from './decision';

/**
 * The trigger id: the same commit on the same ref of the same project is one trigger, however
 * many deliveries mention it (retries, duplicate hooks, DC cluster double-sends). 64 hex
 * characters, within SQS's 128-character deduplication id.
 */
export function triggerIdOf(
  projectId: string,
  refType: DecisionRefType,
  refName: string,
  sha: string,
): string {
  return createHash('sha256')
    .update(JSON.stringify(['hookgate.trigger/v1', projectId, refType, refName, sha.toLowerCase()]))
    .digest('hex');
}

/**
 * The trigger id of a manual build: its own per build request, so a commit built before (its
 * trigger sent, dead-lettered or failed) is sent again. The same request asked twice (a client
 * retry) gets the same id, and so at most one trigger.
 */
export function manualTriggerIdOf(projectId: string, buildId: string): string {
  return createHash('sha256')
    .update(JSON.stringify(['hookgate.trigger/v1', 'manual', projectId, buildId]))
    .digest('hex');
}
