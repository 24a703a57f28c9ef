import { describe, expect, it } from 'vitest';
import {
  ALL_INTEGRATIONS_KEY,
  decisionsPartIndexOf,
  decisionsPartSortKey,
  defaultMarkerKey,
  deliveriesByIntegrationKey,
  deliveriesByProjectKey,
  deliveryKey,
  integrationKey,
  leaseKey,
  META,
  openPullRequestSortKey,
  PARTITION_PREFIXES,
  projectKey,
  projectsByIntegrationKey,
  pullRequestSortKey,
  receivedSortKey,
  receivedSortKeyFrom,
  receivedSortKeyThrough,
  repositoryMappingKey,
  sweepCheckpointKey,
  triggerKey,
} from '../../shared/store/keys';

describe('the table keys', () => {
  it('builds the partition keys existing items are stored under', () => {
    expect(integrationKey('acme')).toBe('INT#acme');
    expect(projectKey('prj-1')).toBe('PRJ#prj-1');
    expect(repositoryMappingKey('acme', '{uuid}')).toBe('REPO#acme#{uuid}');
    expect(deliveryKey('acme', 'd-1')).toBe('DLV#acme#d-1');
    expect(triggerKey('t-1')).toBe('TRG#t-1');
    expect(defaultMarkerKey('bitbucket-cloud')).toBe('DEFAULT#bitbucket-cloud');
    expect(leaseKey(integrationKey('acme'))).toBe('LEASE#INT#acme');
    expect(sweepCheckpointKey('acme')).toBe('SWEEP#acme');
  });

  it('builds the sort keys existing items are stored under', () => {
    expect(META).toBe('META');
    expect(pullRequestSortKey(7)).toBe('PR#7');
    expect(openPullRequestSortKey('feature/x', 7)).toBe('OPEN#feature/x#7');
    expect(decisionsPartSortKey(0)).toBe('DECISIONS#0');
    expect(receivedSortKey('2025-06-02T12:00:00.000Z', 'd-1')).toBe('2025-06-02T12:00:00.000Z#d-1');
  });

  it('builds the index partitions existing items are listed under', () => {
    expect(ALL_INTEGRATIONS_KEY).toBe('INTS');
    expect(projectsByIntegrationKey('acme')).toBe('PRJS#acme');
    expect(deliveriesByProjectKey('prj-1')).toBe('DLVP#prj-1');
    expect(deliveriesByIntegrationKey('acme')).toBe('DLVI#acme');
  });

  it('starts each partition key with its prefix, and no prefix with another', () => {
    const built = {
      integration: integrationKey('x'),
      project: projectKey('x'),
      repositoryMapping: repositoryMappingKey('x', 'y'),
      delivery: deliveryKey('x', 'y'),
      trigger: triggerKey('x'),
      defaultMarker: defaultMarkerKey('bitbucket-cloud'),
      lease: leaseKey('x'),
      sweepCheckpoint: sweepCheckpointKey('x'),
    };
    for (const [kind, prefix] of Object.entries(PARTITION_PREFIXES)) {
      for (const [other, key] of Object.entries(built)) expect(key.startsWith(prefix)).toBe(kind === other);
    }
  });

  it('reads back the index of a decisions part, and none from another sort key', () => {
    expect(decisionsPartIndexOf(decisionsPartSortKey(12))).toBe(12);
    expect(decisionsPartIndexOf(META)).toBeNaN();
  });

  it('bounds the deliveries received at one time, whatever their ids', () => {
    const at = '2025-06-02T12:00:00.000Z';
    const later = '2025-06-02T12:00:00.001Z';
    for (const id of ['', '0', 'zzz', '\u{10FFFF}']) {
      expect(receivedSortKeyFrom(at) <= receivedSortKey(at, id)).toBe(true);
      expect(receivedSortKey(at, id) <= receivedSortKeyThrough(at)).toBe(true);
    }
    expect(receivedSortKeyThrough(at) < receivedSortKey(later, '')).toBe(true);
  });
});
