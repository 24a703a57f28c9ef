import { createHash } from 'node:crypto';
import { normaliseDelivery } from '../../shared/bitbucket/normalise';
import { signBody } from '../../shared/bitbucket/signature';
import type { Provider } from '../../shared/domain/events';
import { listFixtures, type Platform, readFixtureBytes } from '../../test/support/fixtures';

/** One real payload of the corpus (test/fixtures/bitbucket), ready to be sent. */
export interface CorpusEntry {
  /** Relative to the fixtures folder, e.g. `cloud/drone-go-scm__push.json`. */
  path: string;
  platform: Platform;
  provider: Provider;
  eventKey: string;
  bytes: Buffer;
  /** The head commits of a push (full 40-character shas): what a variant replaces. */
  heads: string[];
}

const FULL_SHA = /^[0-9a-f]{40}$/;

/**
 * Every payload of the corpus that Bitbucket sends as a delivery (pings and `.headers.json`
 * siblings left out), with the heads of the pushes it holds. Payloads the normaliser cannot read
 * stay in: they are real deliveries, recorded as `invalid`.
 */
export function loadCorpus(): CorpusEntry[] {
  return listFixtures()
    .filter((fixture) => fixture.eventKey && fixture.eventKey !== 'diagnostics:ping')
    .map((fixture) => {
      const bytes = readFixtureBytes(fixture);
      const provider: Provider = fixture.platform === 'cloud' ? 'bitbucket-cloud' : 'bitbucket-data-center';
      return {
        path: fixture.path,
        platform: fixture.platform,
        provider,
        eventKey: fixture.eventKey,
        bytes,
        heads: headsOf(fixture.eventKey, bytes, provider),
      };
    });
}

function headsOf(eventKey: string, bytes: Buffer, provider: Provider): string[] {
  try {
    const event = normaliseDelivery({ eventKey, body: JSON.parse(bytes.toString('utf8')), provider });
    if (event.kind !== 'push') return [];
    const shas = event.changes.map((change) => change.commit?.sha.toLowerCase() ?? '');
    return [...new Set(shas.filter((sha) => FULL_SHA.test(sha)))];
  } catch {
    return [];
  }
}

export function isPush(entry: CorpusEntry): boolean {
  return entry.heads.length > 0;
}

/** The sha a head becomes in a variant: distinct per payload, variant and head, and stable. */
export function variantSha(path: string, variant: number, sha: string): string {
  return createHash('sha1').update(`hookgate-bench\n${path}\n${variant}\n${sha}`).digest('hex');
}

/**
 * The payload bytes of a variant: variant 0 is the fixture as captured; any other replaces every
 * occurrence of each head sha (ref target, `toHash`, `toCommit`, `commits[]`, links) with its
 * variant sha, so the push names a new commit and leaves the rest of the payload as it was.
 */
export function variantBody(entry: CorpusEntry, variant: number): Buffer {
  if (variant === 0 || entry.heads.length === 0) return entry.bytes;
  let text = entry.bytes.toString('utf8');
  for (const sha of entry.heads) text = text.split(sha).join(variantSha(entry.path, variant, sha));
  return Buffer.from(text, 'utf8');
}

/** The headers Bitbucket sends with a delivery: Cloud and Data Center name their id differently. */
export function deliveryHeaders(
  entry: CorpusEntry,
  body: Buffer,
  deliveryId: string,
  secret: string,
): Record<string, string> {
  const common = {
    'x-event-key': entry.eventKey,
    'x-hub-signature': signBody(body, secret),
  };
  return entry.platform === 'cloud'
    ? {
        ...common,
        'content-type': 'application/json',
        'user-agent': 'Bitbucket-Webhooks/2.0',
        'x-request-uuid': deliveryId,
        'x-attempt-number': '1',
      }
    : {
        ...common,
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Atlassian HttpClient 4.2.0 / Bitbucket-9.4.0 (9004000) / Default',
        'x-request-id': deliveryId,
      };
}

/** What one request of the end-to-end run sends. */
export interface PlannedDelivery {
  deliveryId: string;
  /** Index into the corpus. */
  entry: number;
  variant: number;
  /** `fresh`: a new commit; `same-commit`: an earlier commit in a new delivery; `retry`: an earlier delivery resent. */
  kind: 'fresh' | 'same-commit' | 'retry';
}

export interface PlanMix {
  /** Share of requests that resend an earlier delivery (same id and bytes), as Bitbucket retries. */
  retry: number;
  /** Share of requests that carry an earlier commit in a new delivery (a second hook, a DC double-send). */
  sameCommit: number;
  /** Share of requests with a push payload; the rest are the corpus's other events. */
  push: number;
}

export const DEFAULT_MIX: PlanMix = { retry: 0.04, sameCommit: 0.08, push: 0.8 };

/** Small deterministic PRNG (mulberry32): the same seed sends the same mix. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Plans requests one at a time: mostly pushes of fresh commits (each a distinct trigger), some
 * earlier commits under new delivery ids (trigger dedupe) and some resent deliveries (delivery
 * dedupe). `newId` makes delivery ids; earlier deliveries are drawn from a recent window.
 */
export class DeliveryPlanner {
  private readonly history: PlannedDelivery[] = [];
  private variant = 0;
  private readonly pushes: number[];
  private readonly others: number[];

  constructor(
    corpus: readonly CorpusEntry[],
    private readonly newId: () => string,
    private readonly random: () => number = seededRandom(1),
    private readonly mix: PlanMix = DEFAULT_MIX,
    private readonly window = 500,
  ) {
    this.pushes = corpus.flatMap((entry, index) => (isPush(entry) ? [index] : []));
    this.others = corpus.flatMap((entry, index) => (isPush(entry) ? [] : [index]));
    if (this.pushes.length === 0) throw new Error('the corpus has no push payloads');
  }

  next(): PlannedDelivery {
    const roll = this.random();
    const earlier = this.pickEarlier();
    let planned: PlannedDelivery;
    if (earlier && roll < this.mix.retry) {
      planned = { ...earlier, kind: 'retry' };
    } else if (earlier && roll < this.mix.retry + this.mix.sameCommit) {
      planned = {
        deliveryId: this.newId(),
        entry: earlier.entry,
        variant: earlier.variant,
        kind: 'same-commit',
      };
    } else {
      const pool = this.others.length === 0 || this.random() < this.mix.push ? this.pushes : this.others;
      const entry = pool[Math.floor(this.random() * pool.length)] as number;
      this.variant += 1;
      planned = { deliveryId: this.newId(), entry, variant: this.variant, kind: 'fresh' };
    }
    if (planned.kind !== 'retry') {
      this.history.push(planned);
      if (this.history.length > this.window) this.history.shift();
    }
    return planned;
  }

  private pickEarlier(): PlannedDelivery | undefined {
    if (this.history.length === 0) return undefined;
    return this.history[Math.floor(this.random() * this.history.length)];
  }
}
