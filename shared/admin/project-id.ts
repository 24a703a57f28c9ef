import { createHash } from 'node:crypto';

/**
 * A project's id: derived from its integration and the repository's immutable id, so it
 * survives renames and moves and is the same whoever connects it (the local stack's
 * auto-connect derives it the same way).
 */
export function projectIdOf(integration: string, repositoryId: string): string {
  const digest = createHash('sha256').update(`${integration}\n${repositoryId}`).digest('hex');
  return `prj-${digest.slice(0, 16)}`;
}
