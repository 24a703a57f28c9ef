import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../../../cli/admin';
import type { Terminal } from '../../../cli/admin/connect';
import { CommandFailedError } from '../../../cli/errors';
import { type FakeAdmin, runCli, startFakeAdmin } from './support';

// Deletes ask first when a person is at a terminal; scripts (no terminal) and --yes are not asked.

let api: FakeAdmin;
beforeAll(async () => {
  api = await startFakeAdmin();
});
afterAll(() => api.close());
beforeEach(() => {
  api.reply(204);
});

/** A terminal that answers every question with `answer` and keeps the questions. */
function terminal(answer: string, interactive = true): Terminal & { asked: string[] } {
  const asked: string[] = [];
  return {
    interactive,
    asked,
    ask: async (question) => {
      asked.push(question);
      return answer;
    },
  };
}

async function run(args: string[], term: Terminal): Promise<string> {
  let printed = '';
  await runAdmin(
    [...args, '--endpoint', api.url, '--token', 'tok'],
    (text) => {
      printed += text;
    },
    { terminal: term },
  );
  return printed;
}

const DELETES: [string, string[], RegExp][] = [
  [
    'integrations delete',
    ['integrations', 'delete', 'acme'],
    /^Delete integration acme\? Its projects are detached and its webhook URL answers 410\. \[y\/N\] $/,
  ],
  [
    'projects disconnect',
    ['projects', 'disconnect', 'prj-1'],
    /^Disconnect project prj-1\? Hookgate's webhook and deploy key leave the repository, and its deliveries are no longer decided\. \[y\/N\] $/,
  ],
];

describe.each(DELETES)('%s', (_, args, question) => {
  it('asks in a terminal and sends nothing unless the answer is yes', async () => {
    const before = api.received.length;
    const no = terminal('n');
    await expect(run(args, no)).rejects.toThrow(new CommandFailedError('cancelled: nothing was changed'));
    expect(no.asked).toHaveLength(1);
    expect(no.asked[0]).toMatch(question);
    const empty = terminal('');
    await expect(run(args, empty)).rejects.toThrow(CommandFailedError);
    expect(api.received).toHaveLength(before);
  });

  it('goes on when the answer is yes', async () => {
    const before = api.received.length;
    const yes = terminal('Yes');
    await run(args, yes);
    expect(yes.asked).toHaveLength(1);
    expect(api.received).toHaveLength(before + 1);
    expect(api.last().method).toBe('DELETE');
  });

  it('does not ask with --yes or -y', async () => {
    for (const flag of ['--yes', '-y']) {
      const before = api.received.length;
      const asked = terminal('n');
      await run([...args, flag], asked);
      expect(asked.asked).toEqual([]);
      expect(api.received).toHaveLength(before + 1);
    }
  });

  it('does not ask without a terminal, so scripts keep working', async () => {
    const before = api.received.length;
    const script = terminal('n', false);
    await run(args, script);
    expect(script.asked).toEqual([]);
    expect(api.received).toHaveLength(before + 1);
  });

  it('deletes from a piped command line without asking (stdin is not a terminal)', async () => {
    const before = api.received.length;
    const result = await runCli(['admin', ...args, '--endpoint', api.url, '--token', 'tok']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(api.received).toHaveLength(before + 1);
  });
});

it('asks nothing for a verb that deletes nothing', async () => {
  api.reply(200, { items: [] });
  const asked = terminal('n');
  await run(['integrations', 'list'], asked);
  expect(asked.asked).toEqual([]);
});
