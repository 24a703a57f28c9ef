import { describe, expect, it } from 'vitest';
import {
  type BitbucketEvent,
  bitbucketEvent,
  isPing,
  knownEvents,
  providerOfEventKey,
  webhookEvents,
} from '../../shared/bitbucket/event-keys';
import { normaliseDelivery } from '../../shared/bitbucket/normalise';
import { PROVIDERS } from '../../shared/domain/events';
import { type Fixture, listFixtures, readFixtureJson } from '../support/fixtures';

const fixtures = listFixtures();
const PROVIDER_OF_PLATFORM = { cloud: 'bitbucket-cloud', server: 'bitbucket-data-center' } as const;

// A real payload for the key, else one of another key of the same platform and kind.
function sampleFor(eventKey: string, event: BitbucketEvent): Fixture | undefined {
  return (
    fixtures.find((f) => f.eventKey === eventKey) ??
    fixtures.find((f) => {
      const other = bitbucketEvent(f.eventKey);
      return other?.provider === event.provider && other.kind === event.kind;
    })
  );
}

describe('the table of Bitbucket events', () => {
  it('subscribes a Cloud webhook to pushes, pull-request changes and repository updates', () => {
    expect(webhookEvents('bitbucket-cloud')).toEqual([
      'repo:push',
      'pullrequest:created',
      'pullrequest:updated',
      'pullrequest:fulfilled',
      'pullrequest:rejected',
      'repo:updated',
    ]);
  });

  it('subscribes a Data Center webhook to pushes, pull-request changes and repository updates', () => {
    expect(webhookEvents('bitbucket-data-center')).toEqual([
      'repo:refs_changed',
      'pr:opened',
      'pr:from_ref_updated',
      'pr:modified',
      'pr:merged',
      'pr:declined',
      'pr:deleted',
      'repo:modified',
    ]);
  });

  for (const provider of PROVIDERS) {
    for (const eventKey of webhookEvents(provider)) {
      it(`subscribes ${provider} to ${eventKey} only because its real payloads make an event the rules act on`, () => {
        const payloads = fixtures.filter((f) => f.eventKey === eventKey);
        expect(payloads.length).toBeGreaterThan(0);
        for (const fixture of payloads) {
          const event = normaliseDelivery({ eventKey, body: readFixtureJson(fixture) });
          expect(event.provider).toBe(provider);
          expect(['push', 'pull-request', 'repository-updated']).toContain(event.kind);
        }
      });
    }
  }

  for (const [eventKey, event] of knownEvents()) {
    if (event.kind === 'ping') continue;
    it(`normalises ${eventKey} as ${event.kind === 'pull-request' ? `a pull request ${event.action}` : event.kind}`, () => {
      const sample = sampleFor(eventKey, event);
      const body = sample ? readFixtureJson(sample) : {};
      if (event.kind !== 'unused') expect(sample, 'a payload of the same kind').toBeDefined();
      const normalised = normaliseDelivery({ eventKey, body });
      expect(normalised).toMatchObject({ kind: event.kind, provider: event.provider, eventKey });
      if (event.kind === 'pull-request') expect(normalised).toMatchObject({ action: event.action });
    });
  }

  it('knows the ping key as Data Center’s connection test', () => {
    const ping = knownEvents().filter(([, event]) => event.kind === 'ping');
    expect(ping).toEqual([['diagnostics:ping', { provider: 'bitbucket-data-center', kind: 'ping' }]]);
    expect(isPing('diagnostics:ping', undefined)).toBe(true);
  });

  it('knows both Data Center spellings of "changes requested" and Cloud\'s change requests as unused', () => {
    expect(
      [
        'pr:reviewer:needs_work',
        'pr:reviewer:changes_requested',
        'pullrequest:changes_request_created',
        'pullrequest:changes_request_removed',
      ].map((key) => [key, bitbucketEvent(key)]),
    ).toEqual([
      ['pr:reviewer:needs_work', { provider: 'bitbucket-data-center', kind: 'unused' }],
      ['pr:reviewer:changes_requested', { provider: 'bitbucket-data-center', kind: 'unused' }],
      ['pullrequest:changes_request_created', { provider: 'bitbucket-cloud', kind: 'unused' }],
      ['pullrequest:changes_request_removed', { provider: 'bitbucket-cloud', kind: 'unused' }],
    ]);
  });

  it('tells the platform of keys it does not list from their family', () => {
    expect(providerOfEventKey('pullrequest:comment_created')).toBe('bitbucket-cloud');
    expect(providerOfEventKey('issue:created')).toBe('bitbucket-cloud');
    expect(providerOfEventKey('pr:reviewer:changes_requested')).toBe('bitbucket-data-center');
    expect(providerOfEventKey('repo:comment:added')).toBe('bitbucket-data-center');
    expect(providerOfEventKey('repo:something_new')).toBeUndefined();
    expect(bitbucketEvent('constructor')).toBeUndefined();
  });

  it('reads every corpus payload of a listed key on the platform the corpus files it under', () => {
    for (const fixture of fixtures) {
      const event = bitbucketEvent(fixture.eventKey);
      if (event) expect(event.provider, fixture.path).toBe(PROVIDER_OF_PLATFORM[fixture.platform]);
    }
  });
});
