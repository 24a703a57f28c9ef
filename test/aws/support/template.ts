import { join } from 'node:path';
import type { CfnResource, CfnTemplate } from './synth';

/** One `AWS::Lambda::Function` of the template that CDK bundled (a NodejsFunction asset). */
export interface TemplateFunction {
  logicalId: string;
  /**
   * The construct's name, first letter lower-cased: `webhook` for `Hookgate-<stage>/Webhook/Function`.
   * What the harness calls the function by.
   */
  name: string;
  /** The asset folder in the cloud assembly (metadata `aws:asset:path`). */
  assetDir: string;
  /** `index.mjs` for `Handler: index.handler`. */
  bundlePath: string;
  /** The export Lambda calls: `handler` for `index.handler`. */
  exportName: string;
  timeoutSeconds: number;
  memorySize: number;
  /** `Environment.Variables` as the template has them (Refs and GetAtts unresolved). */
  environment: Record<string, unknown>;
}

/** An `AWS::ApiGatewayV2::Route` and the function its integration proxies to. */
export interface TemplateRoute {
  /** e.g. `POST /webhooks/{integration}` */
  routeKey: string;
  authorizationType: string;
  functionName: string;
}

/** An `AWS::Lambda::EventSourceMapping` from an SQS queue. */
export interface TemplateEventSource {
  functionName: string;
  /** The queue's logical id. */
  queueLogicalId: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
}

/** Every bundled function of the template: as many as it defines. */
export function templateFunctions(template: CfnTemplate, outDir: string): TemplateFunction[] {
  return resourcesOf(template, 'AWS::Lambda::Function').flatMap(([logicalId, resource]) => {
    const assetPath = resource.Metadata?.['aws:asset:path'];
    // Functions CDK adds for itself (custom resources) carry inline code, not a bundle of ours.
    if (typeof assetPath !== 'string') return [];
    const props = resource.Properties ?? {};
    const [file, exportName] = splitHandler(String(props.Handler));
    const assetDir = join(outDir, assetPath);
    return [
      {
        logicalId,
        name: constructName(resource, logicalId),
        assetDir,
        bundlePath: join(assetDir, `${file}.mjs`),
        exportName,
        timeoutSeconds: Number(props.Timeout ?? 3),
        memorySize: Number(props.MemorySize ?? 128),
        environment: { ...(props.Environment?.Variables ?? {}) },
      },
    ];
  });
}

/** The HTTP API's routes, each with the name of the function it invokes. */
export function templateRoutes(
  template: CfnTemplate,
  functions: readonly TemplateFunction[],
): TemplateRoute[] {
  return resourcesOf(template, 'AWS::ApiGatewayV2::Route').map(([logicalId, resource]) => {
    const props = resource.Properties ?? {};
    const integrationId = JSON.stringify(props.Target).match(/"Ref":"([^"]+)"/)?.[1];
    const integration = integrationId ? template.Resources[integrationId] : undefined;
    const functionId = integration?.Properties?.IntegrationUri?.['Fn::GetAtt']?.[0];
    const fn = functions.find((candidate) => candidate.logicalId === functionId);
    if (!fn) throw new Error(`route ${logicalId} (${props.RouteKey}) does not proxy to a bundled function`);
    return {
      routeKey: String(props.RouteKey),
      authorizationType: String(props.AuthorizationType ?? 'NONE'),
      functionName: fn.name,
    };
  });
}

/** The SQS event sources of the template's functions. */
export function templateEventSources(
  template: CfnTemplate,
  functions: readonly TemplateFunction[],
): TemplateEventSource[] {
  return resourcesOf(template, 'AWS::Lambda::EventSourceMapping').flatMap(([, resource]) => {
    const props = resource.Properties ?? {};
    const queueLogicalId = props.EventSourceArn?.['Fn::GetAtt']?.[0];
    const queue = queueLogicalId ? template.Resources[queueLogicalId] : undefined;
    const fn = functions.find((candidate) => candidate.logicalId === props.FunctionName?.Ref);
    if (queue?.Type !== 'AWS::SQS::Queue' || !fn) return [];
    return [
      {
        functionName: fn.name,
        queueLogicalId,
        batchSize: Number(props.BatchSize ?? 10),
        reportBatchItemFailures: (props.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
      },
    ];
  });
}

/** `[logicalId, resource]` of every resource of one type. */
export function resourcesOf(template: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) throw new Error(`unexpected Lambda handler "${handler}"`);
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

function constructName(resource: CfnResource, logicalId: string): string {
  // `Hookgate-<stage>/<Construct>/Function/Resource`: the construct is what the stack names.
  const path = String(resource.Metadata?.['aws:cdk:path'] ?? logicalId).split('/');
  const name = path.length >= 3 ? (path[1] as string) : logicalId;
  return name.charAt(0).toLowerCase() + name.slice(1);
}
