import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TriggerMessage } from '../shared/domain/trigger-message';

export const EXEC_PREFIX = '[exec] ';

/** The environment a `--exec` command gets: the whole message, and its main fields one by one. */
export function triggerEnv(message: TriggerMessage): Record<string, string> {
  return {
    HOOKGATE_TRIGGER: JSON.stringify(message),
    HOOKGATE_TRIGGER_ID: message.triggerId,
    HOOKGATE_PROJECT: message.project.id,
    HOOKGATE_REPOSITORY: message.project.repository,
    HOOKGATE_REF: message.ref.name,
    HOOKGATE_REF_TYPE: message.ref.type,
    HOOKGATE_SHA: message.commit.sha,
    HOOKGATE_CLONE_URL: message.project.cloneUrl,
    HOOKGATE_REASON: message.reason,
  };
}

/**
 * Runs `command` in a shell for one trigger, each line of its output prefixed with `[exec] `.
 * Resolves with its exit code, or the signal that ended it; rejects only when it cannot start.
 */
export function runExec(
  command: string,
  message: TriggerMessage,
  write: { out: (line: string) => void; err: (line: string) => void },
): Promise<number | NodeJS.Signals> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, {
      shell: true,
      env: { ...process.env, ...triggerEnv(message) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const streams = [
      { stream: child.stdout, write: write.out },
      { stream: child.stderr, write: write.err },
    ].map(
      ({ stream, write: emit }) =>
        new Promise<void>((done) => {
          const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
          lines.on('line', (line) => emit(`${EXEC_PREFIX}${line}`));
          lines.on('close', done);
        }),
    );
    child.once('error', reject);
    child.once('close', (code, signal) => {
      // 'close' comes after the streams end, but their last lines may still be in readline.
      void Promise.all(streams).then(() => resolve(signal ?? code ?? 0));
    });
  });
}
