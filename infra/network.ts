import { Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './nag';

/** Where the functions that call Bitbucket run when a Data Center is reachable only from a VPC. */
export interface PrivateNetworkSettings {
  vpcId: string;
  /** Private subnets; with endpoints, at most one per Availability Zone (an interface endpoint's rule). */
  subnetIds: string[];
  /** The functions' security groups; none given: one is created that allows all outbound traffic. */
  securityGroupIds: string[];
  /**
   * Endpoints created for the AWS services the functions call (a DynamoDB gateway endpoint on
   * these route tables, SQS and Secrets Manager interface endpoints in the subnets); `false` when
   * the subnets reach AWS already (a NAT gateway, or endpoints of their own).
   */
  endpoints: false | { routeTableIds: string[] };
}

/**
 * What a function needs of EC2 to run in a VPC: the actions of AWS's
 * `AWSLambdaVPCAccessExecutionRole`, without its log permissions (each function's role may write
 * to its own log group only). Lambda calls them with the function's role to manage its network
 * interfaces; EC2 gives them no resource-level permissions worth having, hence `*`.
 */
export const VPC_ACCESS_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

/** The interface endpoints the functions in the VPC need: queues and secrets. */
const INTERFACE_SERVICES = {
  Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
} as const;

/**
 * The VPC placement of the functions that call Bitbucket (processor and admin API), so they can
 * reach a Data Center behind a firewall: an existing VPC and subnets named by id (no lookup:
 * `cdk synth` needs no AWS account), the functions' security groups, and, unless the subnets
 * reach AWS by themselves, the endpoints for what those functions call: DynamoDB (gateway),
 * SQS and Secrets Manager (interface, private DNS). The webhook function and the sweeper call
 * AWS only and stay outside.
 */
export class PrivateNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.ISubnet[];
  readonly securityGroups: ec2.ISecurityGroup[];
  /** The endpoints created; functions placed here wait for them, so their first calls find them. */
  readonly endpoints: ec2.CfnVPCEndpoint[] = [];

  constructor(scope: Construct, id: string, settings: PrivateNetworkSettings) {
    super(scope, id);
    // Functions and the L1 endpoints below need the ids only: the subnets are given, so nothing
    // selects by zone, and no zone or CIDR has to be known at synth (the region's zones stand in).
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: settings.vpcId,
      availabilityZones: Fn.getAzs(),
    });
    this.subnets = settings.subnetIds.map((subnetId) => ec2.Subnet.fromSubnetId(this, subnetId, subnetId));
    this.securityGroups = settings.securityGroupIds.length
      ? settings.securityGroupIds.map((groupId) =>
          ec2.SecurityGroup.fromSecurityGroupId(this, groupId, groupId, { mutable: false }),
        )
      : [
          new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
            vpc: this.vpc,
            description: 'Hookgate functions that call Bitbucket: no inbound, all outbound',
            allowAllOutbound: true,
          }),
        ];

    if (!settings.endpoints) return;
    // L1 endpoints: the L2 constructs place one per Availability Zone and so need the subnets'
    // zones, which an import by id does not know.
    const dynamoDb = new ec2.CfnVPCEndpoint(this, 'DynamoDbEndpoint', {
      vpcId: settings.vpcId,
      serviceName: ec2.GatewayVpcEndpointAwsService.DYNAMODB.name,
      vpcEndpointType: 'Gateway',
      routeTableIds: settings.endpoints.routeTableIds,
    });
    this.endpoints.push(dynamoDb);
    // The interface endpoints' own group: HTTPS in from the functions' groups only.
    const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Hookgate interface endpoints: HTTPS from the Hookgate functions only',
      allowAllOutbound: false,
    });
    for (const group of this.securityGroups) {
      endpointSecurityGroup.addIngressRule(
        ec2.Peer.securityGroupId(group.securityGroupId),
        ec2.Port.tcp(443),
        'HTTPS from the Hookgate functions',
      );
    }
    for (const [name, service] of Object.entries(INTERFACE_SERVICES)) {
      const endpoint = new ec2.CfnVPCEndpoint(this, `${name}Endpoint`, {
        vpcId: settings.vpcId,
        serviceName: service.name,
        vpcEndpointType: 'Interface',
        subnetIds: settings.subnetIds,
        securityGroupIds: [endpointSecurityGroup.securityGroupId],
        // The SDKs' default host names then resolve to the endpoint: no client configuration.
        privateDnsEnabled: true,
      });
      this.endpoints.push(endpoint);
    }
  }

  /** What a function in these subnets must be allowed to do: manage its network interfaces. */
  grantVpcAccess(grantee: iam.IGrantable & Construct): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'VpcNetworkInterfaces', actions: VPC_ACCESS_ACTIONS, resources: ['*'] }),
    );
    acknowledgeWildcardResource(
      grantee,
      '*',
      "Lambda manages a VPC function's network interfaces with the function's role: the actions of AWSLambdaVPCAccessExecutionRole " +
        '(create, describe, delete network interfaces, describe subnets, assign and unassign private addresses), ' +
        'which EC2 does not scope to resources; nothing else is granted on *.',
    );
  }
}
