import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFixtureJson } from '../support/fixtures';
import { runCli } from './admin/support';

// How the command line talks to its user: --help on every command and verb, and one-line errors
// that name the option, the field, what was given and what was expected.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookgate-usage-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function tempFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Exit 2, nothing on stdout, one line on stderr. */
function expectOneLine(result: { code: number; stdout: string; stderr: string }, line: string): void {
  expect(result).toEqual({ code: 2, stdout: '', stderr: `${line}\n` });
}

describe('--help', () => {
  it.each([
    ['evaluate', /^usage: hookgate evaluate <payload\.json> --event-key <key>\n/],
    ['send', /^usage: hookgate send <payload\.json> --event-key <key>/],
    ['dev', /^usage: hookgate dev \[--port <n>\]/],
    ['admin', /^usage: hookgate admin </],
  ])('hookgate %s --help prints its usage and exits 0', async (command, usage) => {
    for (const flag of ['--help', '-h']) {
      const result = await runCli([command, flag]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(usage);
    }
  });

  it('takes --help among other arguments, and not after --', async () => {
    const result = await runCli(['evaluate', 'payload.json', '--event-key', 'repo:push', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: hookgate evaluate /);
    const literal = await runCli(['evaluate', '--event-key', 'repo:push', '--', '--help']);
    expect(literal.code).toBe(2);
    expect(literal.stderr).toMatch(/cannot read payload file --help: no such file/);
  });

  it('prints the usage of each admin verb, with what it does', async () => {
    const all = await runCli(['admin', '--help']);
    const verbs = [...all.stdout.matchAll(/^ {4}([a-z]+)(?: ([a-z-]+))? [<([-]/gm)].map((match) =>
      [match[1], match[2]].filter((word): word is string => Boolean(word)),
    );
    expect(verbs.length).toBeGreaterThanOrEqual(17);
    expect(verbs).toContainEqual(['projects', 'connect']);
    expect(verbs).toContainEqual(['evaluate']);
    for (const verb of verbs) {
      const result = await runCli(['admin', ...verb, '--help']);
      expect(result.code, verb.join(' ')).toBe(0);
      expect(result.stdout, verb.join(' ')).toMatch(new RegExp(`^usage: hookgate admin ${verb.join(' ')} `));
      expect(result.stdout, verb.join(' ')).toMatch(/^ {2}[A-Z<-]/m);
      expect(result.stdout, verb.join(' ')).toContain('--endpoint <url>');
    }
  }, 120_000);

  it('explains the --set format in the usage of projects set', async () => {
    const result = await runCli(['admin', 'projects', 'set', 'p1', '--help']);
    expect(result.stdout).toMatch(/true, false, yes or no/);
    expect(result.stdout).toMatch(/comma-separated or as JSON/);
  });
});

describe('errors in the words of the command line', () => {
  const push = 'examples/payloads/cloud-branch-created.json';

  it('names an unknown option once, with a closed quote and where help is', async () => {
    for (const command of ['evaluate', 'send', 'dev']) {
      const result = await runCli([command, '--colour']);
      expectOneLine(result, `hookgate ${command}: unknown option --colour (see hookgate ${command} --help)`);
    }
  });

  it('asks evaluate and send for --event-key, not for an HTTP header', async () => {
    for (const command of ['evaluate', 'send']) {
      const result = await runCli([command, push]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^hookgate ${command}: missing --event-key: .*repo:push`));
      expect(result.stderr).not.toMatch(/header/i);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('says what a payload lacks: where, what was expected and what was found', async () => {
    const body = readFixtureJson<Record<string, unknown>>('cloud/drone-go-scm__push.json');
    const payload = tempFile('string-repository.json', { ...body, repository: 'acme/widgets' });
    expectOneLine(
      await runCli(['evaluate', payload, '--event-key', 'repo:push']),
      'hookgate evaluate: repo:push payload is not valid at repository: expected an object, got a string',
    );
  });

  it('says which setting is wrong, what was given and what it takes', async () => {
    const settings = tempFile('yes-settings.json', { onlyBuildPullRequests: 'yes', ignoreBranches: 'wip/*' });
    expectOneLine(
      await runCli(['evaluate', push, '--event-key', 'repo:push', '--settings', settings]),
      'hookgate evaluate: invalid settings: onlyBuildPullRequests: expected a boolean, got "yes"; ignoreBranches: expected an array, got "wip/*"',
    );
  });

  it('refuses connection options without --project-id, which alone asks the admin API', async () => {
    expectOneLine(
      await runCli(['evaluate', push, '--event-key', 'repo:push', '--endpoint', 'http://127.0.0.1:9']),
      'hookgate evaluate: --endpoint is for --project-id, which asks the admin API',
    );
  });
});
