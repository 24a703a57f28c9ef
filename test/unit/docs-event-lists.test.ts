import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { knownEvents, webhookEvents } from '../../shared/bitbucket/event-keys';
import type { Provider } from '../../shared/domain/events';

// README (adding a webhook by hand) and docs/admin.md (the webhook connect creates) both list the
// events to subscribe to; each list must be the event table's, so the two never drift apart.

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const ADMIN_DOC = readFileSync(new URL('../../docs/admin.md', import.meta.url), 'utf8');
const KNOWN = new Map(knownEvents());

/** Event keys named in a passage, `pullrequest:created|updated` shorthand expanded. */
function eventKeysIn(passage: string, provider: Provider): string[] {
  const keys = new Set<string>();
  for (const [, code] of passage.matchAll(/`([a-z_]+:[a-z_|]+)`/g)) {
    const [head = '', ...alternatives] = (code ?? '').split('|');
    const prefix = head.slice(0, head.indexOf(':') + 1);
    for (const key of [head, ...alternatives.map((rest) => prefix + rest)]) {
      if (KNOWN.get(key)?.provider === provider) keys.add(key);
    }
  }
  return [...keys].sort();
}

function passage(text: string, start: string, end: string): string {
  const from = text.indexOf(start);
  expect(from, `"${start}" is in the doc`).toBeGreaterThanOrEqual(0);
  const to = text.indexOf(end, from + start.length);
  expect(to, `"${end}" follows "${start}"`).toBeGreaterThan(from);
  return text.slice(from, to);
}

describe('the webhook event lists in the docs', () => {
  const readme = passage(README, '- **Events**', "Data Center's _Test connection_");
  const [readmeCloud, readmeDc] = readme.split('Data Center:');
  const admin = passage(ADMIN_DOC, 'the events Hookgate uses', 'described `Hookgate');
  const [adminCloud, adminDc] = admin.split('; DC');

  it.each([
    ['README, Bitbucket Cloud', readmeCloud, 'bitbucket-cloud'],
    ['README, Data Center', readmeDc, 'bitbucket-data-center'],
    ['docs/admin.md, Bitbucket Cloud', adminCloud, 'bitbucket-cloud'],
    ['docs/admin.md, Data Center', adminDc, 'bitbucket-data-center'],
  ] as const)('%s names exactly the events a Hookgate webhook subscribes to', (_, text, provider) => {
    expect(eventKeysIn(text ?? '', provider)).toEqual([...webhookEvents(provider)].sort());
  });
});
