import { describe, expect, it } from 'vitest';
import { currentSecretIn } from '../../shared/admin/context';
import { DependencyError } from '../../shared/errors';

describe('reading a webhook secret document', () => {
  it('gives its current secret, with or without a previous one', () => {
    expect(currentSecretIn(JSON.stringify({ current: 'new' }))).toBe('new');
    const rotated = { current: 'new', previous: 'old', previousValidUntil: '2026-01-02T00:00:00.000Z' };
    expect(currentSecretIn(JSON.stringify(rotated))).toBe('new');
  });

  it.each([
    ['not JSON', '{current', /not JSON/],
    ['JSON null', 'null', /malformed/],
    ['without a current secret', JSON.stringify({ previous: 'old' }), /malformed/],
    ['with an empty current secret', JSON.stringify({ current: '' }), /malformed/],
    ['with a current secret that is not a string', JSON.stringify({ current: 42 }), /malformed/],
  ])('refuses a document %s as a dependency fault', (_, text, message) => {
    expect(() => currentSecretIn(text)).toThrow(DependencyError);
    expect(() => currentSecretIn(text)).toThrow(message);
  });
});
