import type { Template } from 'aws-cdk-lib/assertions';

/** A synthesised resource, read loosely: tests reach into the properties they assert on. */
export type Resource = { Properties?: any; [key: string]: any };

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of the policies attached to a role (its own and the ones naming it). */
export function statementsOfRole(template: Template, roleId: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy: Resource) =>
    (policy.Properties.Roles ?? []).some((role: unknown) => (role as { Ref?: string }).Ref === roleId),
  );
  const inline = template.findResources('AWS::IAM::Role')[roleId]?.Properties?.Policies ?? [];
  return [...policies, ...inline.map((policy: Resource) => ({ Properties: policy }))].flatMap(
    (policy: Resource) => policy.Properties.PolicyDocument.Statement as Statement[],
  );
}

/**
 * A CloudFormation value as one string: `Fn::Join` joined, `Ref` as `<Id>`, `Fn::GetAtt` as
 * `<Id.Attr>` (the way cdk-nag names resources in its findings).
 */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
      return parts.map(flatten).join(delimiter);
    }
    if (Array.isArray(node['Fn::GetAtt'])) return `<${(node['Fn::GetAtt'] as string[]).join('.')}>`;
    if (typeof node.Ref === 'string') return `<${node.Ref}>`;
  }
  return JSON.stringify(value);
}
