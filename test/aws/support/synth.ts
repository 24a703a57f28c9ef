import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root, where `cdk.json` is. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** What the synthesized template and bundles depend on: a change to any of these re-synthesizes. */
const INPUTS = ['infra', 'functions', 'shared', 'cdk.json', 'package-lock.json', 'tsconfig.json'];

/** A synthesis takes about 15 s alone; on a busy 2-core machine give it room. */
const SYNTH_TIMEOUT_MS = 240_000;

export interface SynthesizedStack {
  stage: string;
  /** `Hookgate-<stage>` */
  stackName: string;
  /** The cloud assembly folder (`cdk synth -o`). */
  outDir: string;
  /** The parsed `Hookgate-<stage>.template.json`. */
  template: CfnTemplate;
}

/** A CloudFormation template, as far as the harness reads it. */
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, any>;
  Metadata?: Record<string, unknown>;
}

/**
 * Synthesizes the app for `stage` with `cdk synth` (the NodejsFunction bundles included), once per
 * state of the sources: the assembly is cached under the OS temp folder keyed by a hash of
 * `INPUTS`, and concurrent test files wait for one synthesis instead of running their own.
 */
export async function synthesizeStack(stage: string): Promise<SynthesizedStack> {
  const stackName = `Hookgate-${stage}`;
  const outDir = join(tmpdir(), `hookgate-synth-${stage}-${inputsHash()}`);
  const read = (): SynthesizedStack => ({
    stage,
    stackName,
    outDir,
    template: JSON.parse(readFileSync(join(outDir, `${stackName}.template.json`), 'utf8')) as CfnTemplate,
  });
  if (existsSync(outDir)) return read();
  const lock = `${outDir}.lock`;
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(outDir)) return read();
      // A lock left by a killed run: older than any synthesis takes.
      if (Date.now() - lockAge(lock) > SYNTH_TIMEOUT_MS) rmSync(lock, { recursive: true, force: true });
      if (Date.now() - started > SYNTH_TIMEOUT_MS)
        throw new Error(`cdk synth for ${stage}: lock ${lock} held too long`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    if (existsSync(outDir)) return read();
    const partial = `${outDir}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    await promisify(execFile)(
      join(ROOT, 'node_modules/.bin/cdk'),
      ['synth', '--quiet', '-c', `stage=${stage}`, '-o', partial],
      {
        cwd: ROOT,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
        timeout: SYNTH_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
      },
    ).catch((error: Error & { stderr?: string }) => {
      throw new Error(`cdk synth -c stage=${stage} failed: ${error.stderr?.trim() || error.message}`);
    });
    renameSync(partial, outDir);
    return read();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function lockAge(lock: string): number {
  try {
    return statSync(lock).mtimeMs;
  } catch {
    return Date.now();
  }
}

function inputsHash(): string {
  const hash = createHash('sha256').update(ROOT);
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name));
      return;
    }
    hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
  };
  for (const input of INPUTS) if (existsSync(join(ROOT, input))) visit(join(ROOT, input));
  return hash.digest('hex').slice(0, 16);
}
