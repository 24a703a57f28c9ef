import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHookgateApp } from '../../infra/hookgate-app';
import type { HookgateStack } from '../../infra/hookgate-stack';
import { VPC_ACCESS_ACTIONS } from '../../infra/network';
import { flatten, statementsOfRole } from './template-support';

const VPC = 'vpc-0123456789abcdef0';
const SUBNETS = ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'];
const ROUTE_TABLES = ['rtb-0ccccccccccccccc3'];
const SECURITY_GROUP = 'sg-0ddddddddddddddd4';

type Name = 'webhook' | 'processor' | 'admin' | 'sweeper';
const IN_VPC: Name[] = ['processor', 'admin'];
const OUTSIDE: Name[] = ['webhook', 'sweeper'];

interface Shape {
  stack: HookgateStack;
  template: Template;
  outdir: string;
}

/** The stack synthesised from this context, without esbuild: only its template is read. */
function synth(context: Record<string, unknown>): Shape {
  const outdir = mkdtempSync(join(tmpdir(), 'hookgate-network-'));
  const { stack } = createHookgateApp({
    outdir,
    builtinCloudFormationValidation: false,
    context: { stage: 'test', 'aws:cdk:bundling-stacks': [], ...context },
  });
  return { stack, template: Template.fromStack(stack), outdir };
}

function functionOf({ stack, template }: Shape, name: Name) {
  const id = stack.getLogicalId(stack[name].function.node.defaultChild as CfnElement);
  const resource = template.findResources('AWS::Lambda::Function')[id];
  expect(resource).toBeDefined();
  return { id, resource: resource as { Properties: any; DependsOn?: string[] } };
}

const roleOf = (shape: Shape, name: Name) =>
  functionOf(shape, name).resource.Properties.Role['Fn::GetAtt'][0] as string;

const ec2Statements = (shape: Shape, name: Name) =>
  statementsOfRole(shape.template, roleOf(shape, name)).filter((s) =>
    [s.Action].flat().some((action) => action.startsWith('ec2:')),
  );

const endpointsOf = (template: Template, type: 'Gateway' | 'Interface') =>
  Object.values(
    template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: type } }),
  ).map((endpoint) => endpoint.Properties);

const shapes: Shape[] = [];
afterAll(() => {
  for (const shape of shapes) rmSync(shape.outdir, { recursive: true, force: true });
});

describe('without vpcId (the default)', () => {
  let shape: Shape;
  beforeAll(() => {
    shape = synth({});
    shapes.push(shape);
  });

  it('places no function in a VPC and creates no network resource', () => {
    for (const name of [...IN_VPC, ...OUTSIDE]) {
      expect(functionOf(shape, name).resource.Properties.VpcConfig).toBeUndefined();
      expect(ec2Statements(shape, name)).toEqual([]);
    }
    expect(Object.keys(shape.template.toJSON().Resources).filter((id) => id.startsWith('Network'))).toEqual(
      [],
    );
    shape.template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    shape.template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
  });
});

describe.each([
  ['with endpoints', { routeTableIds: ROUTE_TABLES.join(',') }],
  ['without endpoints (the subnets have NAT)', { vpcEndpoints: 'false', securityGroupIds: SECURITY_GROUP }],
])('in a VPC %s', (label, context) => {
  const endpoints = label === 'with endpoints';
  let shape: Shape;
  beforeAll(() => {
    shape = synth({ vpcId: VPC, subnetIds: SUBNETS.join(','), ...context });
    shapes.push(shape);
  });

  it('passes the AwsSolutions checks with every finding acknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(shape.stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it.each(IN_VPC)('runs the %s function in the given subnets with the security groups', (name) => {
    const config = functionOf(shape, name).resource.Properties.VpcConfig;
    expect(config.SubnetIds).toEqual(SUBNETS);
    if (endpoints) {
      // None given: one of its own, no inbound, all outbound (Bitbucket, and AWS through the endpoints).
      expect(config.SecurityGroupIds).toHaveLength(1);
      const groupId = config.SecurityGroupIds[0]['Fn::GetAtt'][0];
      const group = shape.template.findResources('AWS::EC2::SecurityGroup')[groupId];
      expect(group?.Properties).toMatchObject({
        VpcId: VPC,
        SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: '-1' }],
      });
      expect(group?.Properties.SecurityGroupIngress).toBeUndefined();
    } else {
      expect(config.SecurityGroupIds).toEqual([SECURITY_GROUP]);
    }
  });

  it.each(IN_VPC)('lets the %s function manage its network interfaces, the only grant on *', (name) => {
    const statements = ec2Statements(shape, name);
    expect(statements).toEqual([
      expect.objectContaining({ Effect: 'Allow', Action: VPC_ACCESS_ACTIONS, Resource: '*' }),
    ]);
    const onEverything = statementsOfRole(shape.template, roleOf(shape, name)).filter((s) =>
      [s.Resource].flat().map(flatten).includes('*'),
    );
    expect(onEverything).toEqual(statements);
    // No AWS managed policy (AWSLambdaVPCAccessExecutionRole would also grant every log group).
    expect(
      shape.template.findResources('AWS::IAM::Role')[roleOf(shape, name)]?.Properties.ManagedPolicyArns,
    ).toBeUndefined();
  });

  it.each(OUTSIDE)('keeps the %s function, which calls AWS only, out of the VPC', (name) => {
    expect(functionOf(shape, name).resource.Properties.VpcConfig).toBeUndefined();
    expect(ec2Statements(shape, name)).toEqual([]);
  });

  if (endpoints) {
    it('adds a DynamoDB gateway endpoint to the route tables', () => {
      expect(endpointsOf(shape.template, 'Gateway')).toEqual([
        expect.objectContaining({
          VpcId: VPC,
          RouteTableIds: ROUTE_TABLES,
          ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.dynamodb']] },
        }),
      ]);
    });

    it('adds SQS and Secrets Manager interface endpoints with private DNS, open to the functions only', () => {
      const interfaces = endpointsOf(shape.template, 'Interface');
      expect(interfaces.map((e) => flatten(e.ServiceName)).sort()).toEqual([
        'com.amazonaws.<AWS::Region>.secretsmanager',
        'com.amazonaws.<AWS::Region>.sqs',
      ]);
      const functionGroup = functionOf(shape, 'processor').resource.Properties.VpcConfig.SecurityGroupIds[0];
      for (const endpoint of interfaces) {
        expect(endpoint).toMatchObject({ VpcId: VPC, SubnetIds: SUBNETS, PrivateDnsEnabled: true });
        const [groupId] = endpoint.SecurityGroupIds.map((g: any) => g['Fn::GetAtt'][0]);
        const group = shape.template.findResources('AWS::EC2::SecurityGroup')[groupId];
        expect(group?.Properties.SecurityGroupIngress).toEqual([
          expect.objectContaining({
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            SourceSecurityGroupId: functionGroup,
          }),
        ]);
      }
    });

    it.each(IN_VPC)('creates the %s function only once the endpoints exist', (name) => {
      const dependsOn = functionOf(shape, name).resource.DependsOn ?? [];
      const endpointIds = Object.keys(shape.template.findResources('AWS::EC2::VPCEndpoint'));
      expect(endpointIds).toHaveLength(3);
      for (const id of endpointIds) expect(dependsOn).toContain(id);
    });
  } else {
    it('creates no endpoint and no security group', () => {
      shape.template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
      shape.template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    });
  }
});
