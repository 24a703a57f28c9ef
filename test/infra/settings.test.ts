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
});
