import { describe, expect, it } from 'vitest';
import {
  account,
  decidedDeliveries,
  decisionSetsOf,
  expectedTriggers,
  triggerIdsOfNdjson,
} from '../../bench/lib/accounting';
import { type CorpusEntry, loadCorpus, variantBody, variantSha } from '../../bench/lib/corpus';
import { projectIdOf } from '../../local/auto-connect';
import { triggerIdOf } from '../../shared/domain/trigger-id';

const RULES = { integration: 'local', defaultBranch: 'main' };
const corpus = loadCorpus();
const entry = (path: string) => corpus.find((candidate) => candidate.path === path) as CorpusEntry;
const cloudPush = entry('cloud/drone-go-scm__push.json'); // branch master of brydzewski/foo
const cloudRepo = '{bc771cbf-829e-4c4b-b71f-a0eb3ac2b860}';
const delivery = (deliveryId: string, source: CorpusEntry, variant: number) => ({
  deliveryId,
  eventKey: source.eventKey,
  body: variantBody(source, variant),
});

describe('expected triggers', () => {
  it('gives one trigger per pushed commit, with the id the local stack computes', () => {
    const expected = expectedTriggers([delivery('d1', cloudPush, 1), delivery('d2', cloudPush, 2)], RULES);
    const head = cloudPush.heads[0] as string;
    const id = (variant: number) =>
      triggerIdOf(
        projectIdOf('local', cloudRepo),
        'branch',
        'master',
        variantSha(cloudPush.path, variant, head),
      );
    expect([...expected.keys()].sort()).toEqual([id(1), id(2)].sort());
  });

  it('counts a commit sent in two deliveries once, naming both', () => {
    const expected = expectedTriggers([delivery('d1', cloudPush, 3), delivery('d2', cloudPush, 3)], RULES);
    expect([...expected.values()]).toEqual([['d1', 'd2']]);
  });

  it('expects nothing of deleted branches, tags (buildTags is off) and pull-request events (covered by the push)', () => {
    const none = [
      'cloud/drone-go-scm__push_branch_delete.json',
      'cloud/drone-go-scm__push_tag_create.json',
      'server/drone-go-scm__push_tag_create.json',
      'cloud/drone-go-scm__pr_created.json',
      'server/drone-go-scm__pr_open.json',
    ].map((path, index) => delivery(`n${index}`, entry(path), 5));
    expect(expectedTriggers(none, RULES).size).toBe(0);
  });

  it('reads Data Center pushes as Data Center deliveries', () => {
    const dc = entry('server/drone-go-scm__push.json');
    expect(expectedTriggers([delivery('d1', dc, 1)], RULES).size).toBe(1);
  });
});

describe('lost and doubled accounting', () => {
  const recorded = {
    decisionSets: new Map([
      ['a', 1],
      ['b', 2],
      ['e', 1],
    ]),
    storedStatus: new Map([
      ['a', 'processed'],
      ['b', 'processed'],
      ['c', 'received'],
      ['e', 'invalid'],
    ]),
    writtenTriggers: ['t1', 't1', 't2', 't5'],
    pendingDeliveries: new Set(['c']),
    pendingTriggers: new Set(['t3']),
  };

  it('finds the delivery never decided, the one decided twice and the trigger never written', () => {
    const result = account(['a', 'b', 'c', 'd', 'e'], new Set(['t1', 't2', 't3', 't4']), recorded);
    expect(result).toMatchObject({
      accepted: 5,
      decided: 3,
      pending: 1,
      pendingTriggers: 1,
      lostDeliveries: ['d'],
      doubledDeliveries: ['b'],
      lostTriggers: ['t4'],
      doubledTriggers: ['t1'],
      unexpectedTriggers: ['t5'],
      lost: 2,
      doubled: 2,
    });
  });

  it('counts a queued delivery as lost once the queue no longer holds it', () => {
    const result = account(['c'], new Set(), { ...recorded, pendingDeliveries: new Set() });
    expect(result.lostDeliveries).toEqual(['c']);
  });

  it('reports nothing lost or doubled when every delivery was decided once and every trigger written once', () => {
    const result = account(['a'], new Set(['t1']), {
      decisionSets: new Map([['a', 1]]),
      storedStatus: new Map([['a', 'processed']]),
      writtenTriggers: ['t1'],
    });
    expect(result).toMatchObject({ lost: 0, doubled: 0, unexpectedTriggers: [], unfinishedDeliveries: [] });
  });

  it('takes only decided deliveries as due for triggers', () => {
    expect(decidedDeliveries(['a', 'c', 'd', 'e'], recorded)).toEqual(['a', 'e']);
  });

  it('reads decision sets from the stack console and trigger ids from triggers.ndjson', () => {
    const stdout = [
      'connected acme/app as project prj-1 (default branch main): …',
      'delivery 1f0c  repo:push  acme/app',
      '  trigger branch-push: push to branch "main" [abc1234]',
      'trigger  acme/app  branch main  abc1234  branch-push',
      'delivery 1f0c  repo:push  acme/app',
      'delivery 2a9d  pr:opened (Data Center)  PRJ/app',
    ].join('\n');
    expect(decisionSetsOf(stdout)).toEqual(
      new Map([
        ['1f0c', 2],
        ['2a9d', 1],
      ]),
    );
    expect(triggerIdsOfNdjson('{"triggerId":"t1"}\n{"triggerId":"t2"}\n{"trigg')).toEqual(['t1', 't2']);
  });
});

describe('drain tracking', () => {
  it('remembers the decisions of earlier phases while reading only what the stack appended since', async () => {
    const { appendFile, mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { DecidedIds, FileTail } = await import('../../bench/e2e');
    const dir = await mkdtemp(join(tmpdir(), 'bench-tail-'));
    const path = join(dir, 'stack.out');
    await writeFile(path, 'delivery a  repo:push  acme/app\n  trigger …\ndelivery b  repo:pu');
    const decided = new DecidedIds(new FileTail(path));
    expect([...(await decided.read())]).toEqual(['a']);
    await appendFile(path, 'sh  acme/app\ndelivery c  pr:opened  PRJ/app\n');
    expect([...(await decided.read())]).toEqual(['a', 'b', 'c']);
    expect([...(await decided.read())]).toEqual(['a', 'b', 'c']);
    await rm(dir, { recursive: true, force: true });
  });
});
