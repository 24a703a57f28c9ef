import { App } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { settingsFromContext } from '../../infra/settings';

const settings = (context: Record<string, unknown>) => settingsFromContext(new App({ context }).node);

describe('settings from CDK context', () => {
  it('defaults to stage dev, 30 days of logs, 24 hours of rotation grace, no domain and no alarm email', () => {
    expect(settings({})).toEqual({
      stage: 'dev',
      logRetention: RetentionDays.ONE_MONTH,
      rotationGraceHours: 24,
      throttleRateLimit: 1_000,
      throttleBurstLimit: 2_000,
    });
  });

  it('reads -c values, which arrive as strings', () => {
    expect(
      settings({
        stage: 'prod',
        logRetentionDays: '90',
        rotationGraceHours: '48',
        throttleRateLimit: '3000',
        throttleBurstLimit: '5000',
        alarmEmail: 'ops@example.com',
        domainName: 'hooks.example.com',
        certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/abc',
      }),
    ).toEqual({
      stage: 'prod',
      logRetention: RetentionDays.THREE_MONTHS,
      rotationGraceHours: 48,
      throttleRateLimit: 3_000,
      throttleBurstLimit: 5_000,
      alarmEmail: 'ops@example.com',
      domain: {
        domainName: 'hooks.example.com',
        certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/abc',
      },
    });
  });

  it('refuses a domain name without its certificate, and the reverse', () => {
    expect(() => settings({ domainName: 'hooks.example.com' })).toThrow(/give both or neither/);
    expect(() => settings({ certificateArn: 'arn:aws:acm:eu-west-1:1:certificate/x' })).toThrow(
      /both or neither/,
    );
  });

  it('refuses a retention CloudWatch Logs does not offer', () => {
    expect(() => settings({ logRetentionDays: '31' })).toThrow(/logRetentionDays/);
  });

  it('refuses a stage that cannot name queues and secret paths', () => {
    expect(() => settings({ stage: 'Prod/EU' })).toThrow(/stage/);
  });

  it('refuses a rotation grace that is not a positive whole number of hours', () => {
    expect(() => settings({ rotationGraceHours: '1.5' })).toThrow(/rotationGraceHours/);
    expect(() => settings({ rotationGraceHours: '0' })).toThrow(/rotationGraceHours/);
  });

  it("refuses a throttle that is not a positive whole number or exceeds API Gateway's account limits", () => {
    expect(() => settings({ throttleRateLimit: '0' })).toThrow(/throttleRateLimit/);
    expect(() => settings({ throttleRateLimit: '20000' })).toThrow(/account limits/);
    expect(() => settings({ throttleBurstLimit: '6000' })).toThrow(/account limits/);
  });

  it('refuses an alarm email that is not an address', () => {
    expect(() => settings({ alarmEmail: 'ops' })).toThrow(/alarmEmail/);
  });

  describe('VPC placement', () => {
    const VPC = 'vpc-0123456789abcdef0';
    const SUBNETS = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'];

    it('reads comma-separated ids from -c, and creates endpoints by default', () => {
      expect(
        settings({
          vpcId: VPC,
          subnetIds: SUBNETS.join(','),
          securityGroupIds: 'sg-0ddddddddddddddd4',
          routeTableIds: 'rtb-0ccccccccccccccc3, rtb-0eeeeeeeeeeeeeee5',
        }).vpc,
      ).toEqual({
        vpcId: VPC,
        subnetIds: SUBNETS,
        securityGroupIds: ['sg-0ddddddddddddddd4'],
        endpoints: { routeTableIds: ['rtb-0ccccccccccccccc3', 'rtb-0eeeeeeeeeeeeeee5'] },
      });
    });

    it("takes cdk.json's arrays and booleans, and no endpoints when vpcEndpoints is false", () => {
      expect(settings({ vpcId: VPC, subnetIds: SUBNETS, vpcEndpoints: false }).vpc).toEqual({
        vpcId: VPC,
        subnetIds: SUBNETS,
        securityGroupIds: [],
        endpoints: false,
      });
      expect(settings({ vpcId: VPC, subnetIds: JSON.stringify(SUBNETS), vpcEndpoints: 'false' }).vpc).toEqual(
        expect.objectContaining({ subnetIds: SUBNETS }),
      );
    });

    it('refuses a VPC without subnets, and subnets or endpoint settings without a VPC', () => {
      expect(() => settings({ vpcId: VPC })).toThrow(/needs subnetIds/);
      expect(() => settings({ subnetIds: SUBNETS.join(',') })).toThrow(/subnetIds needs vpcId/);
      expect(() => settings({ vpcEndpoints: 'false' })).toThrow(/vpcEndpoints needs vpcId/);
    });

    it("refuses endpoints without the subnets' route tables, and route tables without endpoints", () => {
      expect(() => settings({ vpcId: VPC, subnetIds: SUBNETS.join(',') })).toThrow(/needs routeTableIds/);
      expect(() =>
        settings({
          vpcId: VPC,
          subnetIds: SUBNETS.join(','),
          vpcEndpoints: 'false',
          routeTableIds: 'rtb-0ccccccccccccccc3',
        }),
      ).toThrow(/only used with vpcEndpoints=true/);
    });

    it('refuses ids that are not of their kind, and a vpcEndpoints that is not a boolean', () => {
      expect(() => settings({ vpcId: 'my-vpc', subnetIds: SUBNETS.join(',') })).toThrow(/vpcId/);
      expect(() =>
        settings({ vpcId: VPC, subnetIds: 'sg-0ddddddddddddddd4', vpcEndpoints: 'false' }),
      ).toThrow(/subnetIds must list subnet-/);
      expect(() =>
        settings({
          vpcId: VPC,
          subnetIds: SUBNETS.join(','),
          vpcEndpoints: 'false',
          securityGroupIds: 'default',
        }),
      ).toThrow(/securityGroupIds/);
      expect(() => settings({ vpcId: VPC, subnetIds: SUBNETS.join(','), vpcEndpoints: 'yes' })).toThrow(
        /vpcEndpoints must be true or false/,
      );
    });
  });
});
