// The AWS list prices the cost model (lib/cost.ts) multiplies by: us-east-1, on-demand, no free
// tier, no Savings Plans, first volume tier only. One file, so a price change is one edit here.
//
// As of 2026-12-06, when they were last checked. Each figure's source is AWS's own pricing page
// (`source`), but those pages (their price tables are drawn by script) could not be read where
// this was checked; each figure was checked instead against the public pages in `checkedAgainst`,
// which quote AWS's page, and `verified` says they agreed with it. None was verified against AWS's
// own page: check `source` before relying on a figure for a decision.

export interface Price {
  /** US dollars per `per` units. */
  usd: number;
  per: number;
  unit: string;
  source: string;
  checkedAgainst: readonly string[];
  verified: boolean;
  note?: string;
}

export const PRICES_AS_OF = '2026-12-06';
export const PRICE_REGION = 'us-east-1';

export const PRICES = {
  apiGatewayHttpRequest: {
    usd: 1.0,
    per: 1_000_000,
    unit: 'HTTP API requests (first 300 million a month)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    checkedAgainst: [
      'https://www.apigatewaycost.com/aws',
      'https://amnic.com/blogs/aws-api-gateway-pricing',
      'https://awsforengineers.com/blog/aws-api-gateway-pricing-explained',
    ],
    verified: true,
    note: 'Requests of up to 512 KB count as one; $0.90 per million after the first 300 million.',
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    per: 1,
    unit: 'GB-seconds, arm64 (first 7.5 billion a month)',
    source: 'https://aws.amazon.com/lambda/pricing/',
    checkedAgainst: [
      'https://cloudchipr.com/blog/aws-lambda-pricing',
      'https://git.mcrn.ar/mariano/lambda_local_runner/src/commit/957e45b8adae23ce50b966346229585b5df18b4d/docs/lambdas-md/lambda-13-cost.md',
    ],
    verified: true,
    note: 'Duration is billed in 1 ms steps, rounded up, per invocation.',
  },
  lambdaRequest: {
    usd: 0.2,
    per: 1_000_000,
    unit: 'Lambda requests (invocations)',
    source: 'https://aws.amazon.com/lambda/pricing/',
    checkedAgainst: [
      'https://git.mcrn.ar/mariano/lambda_local_runner/src/commit/957e45b8adae23ce50b966346229585b5df18b4d/docs/lambdas-md/lambda-13-cost.md',
    ],
    verified: true,
  },
  dynamoWriteRequestUnit: {
    usd: 0.625,
    per: 1_000_000,
    unit: 'DynamoDB on-demand write request units (1 KB each, Standard table class)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    checkedAgainst: ['https://airbyte.com/data-engineering-resources/dynamodb-pricing'],
    verified: true,
    note: 'Halved from $1.25 on 1 November 2024.',
  },
  dynamoReadRequestUnit: {
    usd: 0.125,
    per: 1_000_000,
    unit: 'DynamoDB on-demand read request units (4 KB strongly consistent, or 8 KB eventually consistent)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    checkedAgainst: ['https://airbyte.com/data-engineering-resources/dynamodb-pricing'],
    verified: true,
    note: 'Halved from $0.25 on 1 November 2024.',
  },
  sqsFifoRequest: {
    usd: 0.5,
    per: 1_000_000,
    unit: 'SQS FIFO requests (each 64 KB chunk of a payload is one request)',
    source: 'https://aws.amazon.com/sqs/pricing/',
    checkedAgainst: [
      'https://cloudburn.io/blog/amazon-sqs-pricing',
      'https://www.factualminds.com/blog/amazon-sqs-pricing-64kb-rule-fifo-vs-standard/',
      'https://unanswered.io/guide/aws-sqs-pricing-and-cost-optimization',
    ],
    verified: true,
  },
  secretsManagerApiCall: {
    usd: 0.05,
    per: 10_000,
    unit: 'Secrets Manager API calls',
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
    checkedAgainst: [
      'https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms',
    ],
    verified: true,
    note: 'Plus $0.40 per secret per month, which does not depend on deliveries and is left out.',
  },
} as const satisfies Record<string, Price>;

/** The price of one unit. */
export function unitPrice(price: Pick<Price, 'usd' | 'per'>): number {
  return price.usd / price.per;
}
