import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for one wildcard resource on `scope` and its
 * children. cdk-nag v3 names each finding after the resource as it renders it
 * (`arn:<AWS::Partition>:…:<ApiCD79AAA0>/*`), so the acknowledgement is rendered the same way from
 * the ARN the grant used: it stays exact, and any other wildcard still fails synth.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resourceArn: string, reason: string): void {
  const resource = renderAsNag(Stack.of(scope).resolve(resourceArn));
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
}

/** cdk-nag's flattening of a resolved CloudFormation value (its `flattenCfnReference`). */
function renderAsNag(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
      return parts.map(renderAsNag).join(delimiter);
    }
    if (Array.isArray(node['Fn::GetAtt'])) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${renderAsNag(resource)}.${renderAsNag(attribute)}>`;
    }
    if ('Ref' in node) return `<${renderAsNag(node.Ref)}>`;
  }
  return JSON.stringify(value);
}
