import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REASON_CODES } from '../../shared/domain/decision';

// Dashboards and runners key on the reason codes: README's rules section must explain every one.

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe("README's rules", () => {
  const from = README.indexOf('### The rules');
  const to = README.indexOf('### Settings', from);
  const rules = README.slice(from, to);

  it('are found in the README', () => {
    expect(from).toBeGreaterThanOrEqual(0);
    expect(to).toBeGreaterThan(from);
  });

  it.each(REASON_CODES)('name the reason code %s', (code) => {
    expect(rules).toContain(`\`${code}\``);
  });
});
