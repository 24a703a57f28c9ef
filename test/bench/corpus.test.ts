import { describe, expect, it } from 'vitest';
import {
  type CorpusEntry,
  DeliveryPlanner,
  deliveryHeaders,
  loadCorpus,
  seededRandom,
  variantBody,
  variantSha,
} from '../../bench/lib/corpus';
import { normaliseDelivery } from '../../shared/bitbucket/normalise';
import { verifySignature } from '../../shared/bitbucket/signature';

const corpus = loadCorpus();
const byPath = (path: string) => corpus.find((entry) => entry.path === path) as CorpusEntry;

function headsOf(entry: CorpusEntry, body: Buffer): string[] {
  const event = normaliseDelivery({
    eventKey: entry.eventKey,
    body: JSON.parse(body.toString()),
    provider: entry.provider,
  });
  return event.kind === 'push'
    ? event.changes.flatMap((change) => (change.commit ? [change.commit.sha] : []))
    : [];
}

describe('bench corpus', () => {
  it('holds every delivery of the fixture corpus but pings, Cloud and Data Center alike', () => {
    expect(corpus.length).toBeGreaterThan(80);
    expect(corpus.some((entry) => entry.eventKey === 'diagnostics:ping')).toBe(false);
    expect(corpus.some((entry) => entry.path.endsWith('.headers.json'))).toBe(false);
    expect(new Set(corpus.map((entry) => entry.provider))).toEqual(
      new Set(['bitbucket-cloud', 'bitbucket-data-center']),
    );
  });

  it('gives a Data Center push a new head commit in each variant and leaves variant 0 as captured', () => {
    const push = byPath('server/drone-go-scm__push.json');
    expect(variantBody(push, 0)).toBe(push.bytes);
    const [head] = push.heads;
    expect(headsOf(push, variantBody(push, 1))).toEqual([variantSha(push.path, 1, head as string)]);
    expect(variantSha(push.path, 1, head as string)).not.toBe(variantSha(push.path, 2, head as string));
  });

  it('changes nothing but the head shas of a push', () => {
    const push = byPath('cloud/jenkins-bbsource__multipleChangesPayload.json');
    let restored = variantBody(push, 7).toString('utf8');
    for (const head of push.heads) restored = restored.split(variantSha(push.path, 7, head)).join(head);
    expect(restored).toBe(push.bytes.toString('utf8'));
  });

  it('signs each delivery as Bitbucket does and names its id with the platform header', () => {
    const cloud = byPath('cloud/drone-go-scm__push.json');
    const dc = byPath('server/drone-go-scm__push.json');
    const body = variantBody(cloud, 3);
    const headers = deliveryHeaders(cloud, body, 'id-1', 's3cret');
    expect(verifySignature(body, headers['x-hub-signature'], ['s3cret'])).toBe(true);
    expect(headers['x-request-uuid']).toBe('id-1');
    expect(deliveryHeaders(dc, dc.bytes, 'id-2', 's3cret')['x-request-id']).toBe('id-2');
  });
});

describe('delivery planner', () => {
  const plan = (count: number) => {
    let next = 0;
    const planner = new DeliveryPlanner(corpus, () => `id-${next++}`, seededRandom(42));
    return Array.from({ length: count }, () => planner.next());
  };

  it('plans the same requests for the same seed', () => {
    expect(plan(200)).toEqual(plan(200));
  });

  it('resends earlier deliveries byte for byte and repeats earlier commits under new ids', () => {
    const planned = plan(2_000);
    const first = new Map(planned.filter((p) => p.kind !== 'retry').map((p) => [p.deliveryId, p]));
    const retries = planned.filter((p) => p.kind === 'retry');
    const sameCommit = planned.filter((p) => p.kind === 'same-commit');
    expect(retries.length).toBeGreaterThan(30);
    expect(sameCommit.length).toBeGreaterThan(80);
    for (const retry of retries) {
      expect(first.get(retry.deliveryId)).toMatchObject({ entry: retry.entry, variant: retry.variant });
    }
    for (const repeat of sameCommit) {
      expect(
        planned.some((p) => p.kind === 'fresh' && p.entry === repeat.entry && p.variant === repeat.variant),
      ).toBe(true);
    }
  });

  it('sends mostly pushes, each fresh one a commit not sent before', () => {
    const fresh = plan(2_000).filter((p) => p.kind === 'fresh');
    const pushes = fresh.filter((p) => (corpus[p.entry]?.heads.length ?? 0) > 0);
    expect(pushes.length / fresh.length).toBeGreaterThan(0.7);
    expect(new Set(fresh.map((p) => p.variant)).size).toBe(fresh.length);
  });
});
