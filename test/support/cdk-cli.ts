import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CDK = join(ROOT, 'node_modules/.bin/cdk');

/**
 * The CLI's own network calls switched off: no version check, no notices, no telemetry (cdk.json
 * also turns notices and telemetry off; these make it hold whatever cdk.json says).
 */
const QUIET = {
  CDK_DISABLE_VERSION_CHECK: '1',
  CDK_DISABLE_CLI_TELEMETRY: '1',
  FORCE_COLOR: '0',
};

/**
 * Runs `cdk <args>` from the repository root and resolves with its output; rejects with the
 * output when it fails or outlives `timeoutMs`. `env` is the whole environment besides PATH and
 * HOME: nothing else of the caller's (no AWS profile, no credentials) reaches the CLI.
 */
export function runCdk(
  args: readonly string[],
  { env = {}, timeoutMs = 120_000 }: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<string> {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ROOT, ...QUIET };
  return new Promise((resolve, reject) => {
    execFile(
      CDK,
      [...args, '--no-notices', '--no-color'],
      { cwd: ROOT, env: { ...base, ...env }, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (error)
          reject(new Error(`cdk ${args.join(' ')} failed (${error.message}):\n${output.slice(-6000)}`));
        else resolve(output);
      },
    );
  });
}

/**
 * `cdk synth` of the app with `-c stage=<stage>` into `outdir` (a cloud assembly: templates and
 * the bundled function assets). Returns the path of the `Hookgate-<stage>` template.
 */
export async function synthesize(stage: string, outdir: string): Promise<string> {
  await runCdk(['synth', '--quiet', '-c', `stage=${stage}`, '-o', outdir]);
  return join(outdir, `Hookgate-${stage}.template.json`);
}
