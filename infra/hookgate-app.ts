import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HookgateStack } from './hookgate-stack';
import { settingsFromContext } from './settings';

/**
 * The CDK app: one `Hookgate-<stage>` stack from context, checked by cdk-nag's AwsSolutions pack.
 * cdk-nag v3 is a validation plugin, so an unacknowledged finding fails synth (and deploy).
 */
export function createHookgateApp(props: AppProps = {}): { app: App; stack: HookgateStack } {
  const app = new App(props);
  const settings = settingsFromContext(app.node);
  // No `env`: the stack is environment-agnostic, so synth needs no credentials, region or
  // lookups; `cdk deploy` puts it in the account and region of the caller's credentials.
  const stack = new HookgateStack(app, `Hookgate-${settings.stage}`, settings);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
