import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CliProcess, ensureFreshBundle, killAll, ROOT, startShell } from './dev-process';

// README's local walkthrough ("Run it on your machine"), followed top to bottom as a new user
// would: every `sh` block's commands in order, in a fresh folder holding `examples/`. `npm start`
// starts a stack that keeps running (README starts a second one beside the first, on a data dir of
// its own); every other command must exit 0. Then each decision, `[exec]` line and audit line the
// section's `text` blocks show must have been printed by the stacks: what README promises is what
// following it does.

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const READY = /^Waiting for deliveries; Ctrl-C stops\.$/m;

interface Block {
  lang: string;
  lines: string[];
}

function walkthroughSection(): string {
  const start = README.indexOf('## Run it on your machine');
  const end = README.indexOf('\n## ', start + 1);
  expect(start, 'README has a "Run it on your machine" section').toBeGreaterThanOrEqual(0);
  return README.slice(start, end < 0 ? undefined : end);
}

function blocks(section: string): Block[] {
  return [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(([, lang = '', body = '']) => ({
    lang,
    // A trailing backslash continues the command on the next line.
    lines: body
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  }));
}

/** What the stacks must have printed, from the section's sample output. */
function promisedLines(textBlocks: Block[]): RegExp[] {
  const promised: RegExp[] = [];
  for (const line of textBlocks.flatMap((block) => block.lines)) {
    const decision = line.match(/^(trigger|skip|ignore)\s+([a-z-]+):/);
    if (decision) promised.push(new RegExp(`^\\s+${decision[1]}\\s+${decision[2]}:`, 'm'));
    if (line.startsWith('[exec] ')) promised.push(new RegExp(`^${escapeRegExp(line)}$`, 'm'));
    // A trigger line as printed, `…` standing for what differs from run to run.
    if (line.startsWith('trigger  ')) {
      promised.push(new RegExp(`^${escapeRegExp(line).replaceAll('…', '\\S*')}$`, 'm'));
    }
    const audit = line.match(/^admin (\S+) (\w+)\//);
    if (audit) promised.push(new RegExp(`^admin ${escapeRegExp(audit[1] ?? '')} ${audit[2]}/`, 'm'));
  }
  return promised;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The command as this machine runs it: the bundled CLI for `npx hookgate` and `npm start`. */
function localCommand(line: string): string {
  const cli = `'${process.execPath}' '${CLI}'`;
  if (/^npm start\b/.test(line)) {
    return `${line.replace(/^npm start(\s+--)?/, `${cli} dev`)} --port 0`;
  }
  return line.replace(/^npx hookgate\b/, cli);
}

let work: string;

beforeAll(() => {
  ensureFreshBundle();
  work = mkdtempSync(join(tmpdir(), 'hookgate-readme-'));
  symlinkSync(join(ROOT, 'examples'), join(work, 'examples'));
});

afterAll(async () => {
  await killAll();
  rmSync(work, { recursive: true, force: true });
});

describe("README's local walkthrough", () => {
  it('runs command by command, and the stack prints what README shows', async () => {
    const section = blocks(walkthroughSection());
    const commands = section.filter((block) => block.lang === 'sh').flatMap((block) => block.lines);
    const promised = promisedLines(section.filter((block) => block.lang === 'text'));
    expect(commands.filter((line) => /^npm start\b/.test(line)).length).toBeGreaterThan(0);
    expect(promised.length).toBeGreaterThan(8);

    const stacks: CliProcess[] = [];
    const ran: string[] = [];
    for (const line of commands) {
      if (line === 'npm ci') continue;
      if (/^npm start\b/.test(line)) {
        const stack = startShell(localCommand(line), work);
        stacks.push(stack);
        await stack.waitFor(READY);
        ran.push(line);
        continue;
      }
      expect(line, 'every other walkthrough command is a hookgate command').toMatch(/^npx hookgate /);
      const command = startShell(localCommand(line), work);
      const exit = await command.exited;
      expect(
        exit.code,
        `"${line}" (after: ${ran.join(' ; ')}) exits 0\n--- stdout\n${command.stdout}\n--- stderr\n${command.stderr}`,
      ).toBe(0);
      ran.push(line);
    }

    for (const pattern of promised) {
      const printed = () => stacks.map((stack) => stack.stdout).join('\n');
      for (let waited = 0; !pattern.test(printed()) && waited < 15_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(printed(), `a stack printed a line like ${pattern}`).toMatch(pattern);
    }
  }, 120_000);
});
