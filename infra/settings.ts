import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import type { CustomDomain } from './api';
import type { PrivateNetworkSettings } from './network';

/** What varies between deployments; set with `-c key=value` or in cdk.json's `context`. */
export interface HookgateSettings {
  /** Names the stack (`Hookgate-<stage>`), its queues and its secrets' prefix. */
  stage: string;
  /** An API Gateway custom domain (with its ACM certificate) in front of the API. */
  domain?: CustomDomain;
  /** Retention of every log group of the stack. */
  logRetention: RetentionDays;
  /** Where alarms are emailed (through an SNS topic); no topic without it. */
  alarmEmail?: string;
  /** How long the previous webhook secret stays valid after a rotation: the admin function's `ROTATION_GRACE_HOURS`. */
  rotationGraceHours: number;
  /** The API stage's throttle: steady requests per second, and the burst above it. */
  throttleRateLimit: number;
  throttleBurstLimit: number;
  /**
   * Runs the functions that call Bitbucket (processor, admin) in these subnets of an existing
   * VPC, to reach a Data Center behind a firewall. Absent: no VPC.
   */
  vpc?: PrivateNetworkSettings;
}

export const DEFAULT_SETTINGS = {
  stage: 'dev',
  logRetentionDays: 30,
  rotationGraceHours: 24,
  // Bitbucket never retries a 429, so the throttle must pass any realistic burst (README, AWS).
  throttleRateLimit: 1_000,
  throttleBurstLimit: 2_000,
} as const;

/** API Gateway's account-wide defaults per region: a stage's limits cannot usefully exceed them. */
export const ACCOUNT_THROTTLE = { rateLimit: 10_000, burstLimit: 5_000 } as const;

const STAGE = /^[a-z][a-z0-9-]{0,19}$/;
const RETENTIONS = new Set<number>(
  Object.values(RetentionDays).filter((days): days is number => typeof days === 'number'),
);

/**
 * Reads the settings from CDK context (values given with `-c` arrive as strings). Throws on a
 * value that would deploy something other than what was asked for.
 */
export function settingsFromContext(node: Node): HookgateSettings {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    return String(value).trim();
  };
  const positiveInteger = (key: string, fallback: number): number => {
    const value = text(key);
    if (value === undefined) return fallback;
    const number = Number(value);
    if (!Number.isInteger(number) || number <= 0) {
      throw new Error(`context ${key} must be a positive whole number, got "${value}"`);
    }
    return number;
  };

  const stage = text('stage') ?? DEFAULT_SETTINGS.stage;
  if (!STAGE.test(stage)) {
    throw new Error(
      `context stage must be lowercase letters, digits and dashes, starting with a letter (at most 20), got "${stage}"`,
    );
  }

  const logRetentionDays = positiveInteger('logRetentionDays', DEFAULT_SETTINGS.logRetentionDays);
  if (!RETENTIONS.has(logRetentionDays)) {
    throw new Error(
      `context logRetentionDays must be one CloudWatch Logs accepts (${[...RETENTIONS].sort((a, b) => a - b).join(', ')}), got ${logRetentionDays}`,
    );
  }

  const domainName = text('domainName');
  const certificateArn = text('certificateArn');
  if ((domainName === undefined) !== (certificateArn === undefined)) {
    throw new Error('context domainName and certificateArn go together: give both or neither');
  }

  const alarmEmail = text('alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(alarmEmail)) {
    throw new Error(`context alarmEmail must be an email address, got "${alarmEmail}"`);
  }

  const throttleRateLimit = positiveInteger('throttleRateLimit', DEFAULT_SETTINGS.throttleRateLimit);
  const throttleBurstLimit = positiveInteger('throttleBurstLimit', DEFAULT_SETTINGS.throttleBurstLimit);
  if (throttleRateLimit > ACCOUNT_THROTTLE.rateLimit || throttleBurstLimit > ACCOUNT_THROTTLE.burstLimit) {
    throw new Error(
      `context throttleRateLimit and throttleBurstLimit cannot exceed API Gateway's account limits (${ACCOUNT_THROTTLE.rateLimit} and ${ACCOUNT_THROTTLE.burstLimit}), got ${throttleRateLimit} and ${throttleBurstLimit}`,
    );
  }

  const vpc = vpcFromContext(text);

  return {
    stage,
    ...(domainName && certificateArn ? { domain: { domainName, certificateArn } } : {}),
    logRetention: logRetentionDays as RetentionDays,
    ...(alarmEmail ? { alarmEmail } : {}),
    rotationGraceHours: positiveInteger('rotationGraceHours', DEFAULT_SETTINGS.rotationGraceHours),
    throttleRateLimit,
    throttleBurstLimit,
    ...(vpc ? { vpc } : {}),
  };
}

/** The VPC context keys: given with `-c` as comma-separated ids, or as JSON arrays in cdk.json. */
const VPC_KEYS = ['vpcId', 'subnetIds', 'securityGroupIds', 'vpcEndpoints', 'routeTableIds'] as const;

/**
 * The VPC placement from `vpcId`, `subnetIds`, `securityGroupIds`, `vpcEndpoints` and
 * `routeTableIds`, read without any AWS lookup (synth needs no credentials). Throws on a
 * malformed id or a combination that cannot deploy.
 */
function vpcFromContext(text: (key: string) => string | undefined): PrivateNetworkSettings | undefined {
  const vpcId = text('vpcId');
  if (vpcId === undefined) {
    const stray = VPC_KEYS.filter((key) => key !== 'vpcId' && text(key) !== undefined);
    if (stray.length) throw new Error(`context ${stray.join(', ')} needs vpcId: give the VPC too`);
    return undefined;
  }
  if (!/^vpc-[0-9a-f]{8,17}$/.test(vpcId)) throw new Error(`context vpcId must be a VPC id, got "${vpcId}"`);
  const ids = (key: string, prefix: string): string[] => {
    const given = text(key);
    if (given === undefined) return [];
    const list = given.startsWith('[') ? parseJsonList(key, given) : given.split(/[\s,]+/).filter(Boolean);
    const pattern = new RegExp(`^${prefix}-[0-9a-f]{8,17}$`);
    for (const id of list) {
      if (!pattern.test(id)) throw new Error(`context ${key} must list ${prefix}-… ids, got "${id}"`);
    }
    return [...new Set(list)];
  };
  const subnetIds = ids('subnetIds', 'subnet');
  if (subnetIds.length === 0) {
    throw new Error('context vpcId needs subnetIds: the private subnets the functions run in');
  }
  const endpointsText = text('vpcEndpoints') ?? 'true';
  if (endpointsText !== 'true' && endpointsText !== 'false') {
    throw new Error(`context vpcEndpoints must be true or false, got "${endpointsText}"`);
  }
  const endpoints = endpointsText === 'true';
  const routeTableIds = ids('routeTableIds', 'rtb');
  if (endpoints && routeTableIds.length === 0) {
    throw new Error(
      "context vpcEndpoints=true needs routeTableIds (the subnets' route tables, for the DynamoDB gateway endpoint); " +
        'or set vpcEndpoints=false when the subnets reach AWS through a NAT gateway or endpoints of their own',
    );
  }
  if (!endpoints && routeTableIds.length) {
    throw new Error('context routeTableIds is only used with vpcEndpoints=true');
  }
  return {
    vpcId,
    subnetIds,
    securityGroupIds: ids('securityGroupIds', 'sg'),
    endpoints: endpoints ? { routeTableIds } : false,
  };
}

function parseJsonList(key: string, given: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(given);
  } catch {
    throw new Error(`context ${key} is neither a comma-separated list nor a JSON array: "${given}"`);
  }
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new Error(`context ${key} must be an array of strings`);
  }
  return value as string[];
}
