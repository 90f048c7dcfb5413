import type { CfnElement } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/relay/contract';
import { oneioEndpointOfInvocation } from '../../functions/relay/events/eventbridge';
import { prod, qa } from '../../infra/config';
import { type RelayConfig, RelayConfigError, validateConfig } from '../../infra/config-schema';
import { onlyResource, type SynthesizedRelay, synthRelayApp } from './relay-app';

/**
 * Named ONEiO endpoints: declared in `oneio.endpoints`, named by sources and event rules. An event rule's endpoint
 * reaches the function through the alias its rule targets; what only shows after a deploy is checked here by
 * walking the synthesized template's references.
 */

const withEndpoints: RelayConfig = {
  ...qa,
  environmentName: 'routing',
  oneio: { ...qa.oneio, endpoints: ['itsm', 'hr'] },
  sources: {
    github: { scheme: 'github' },
    jira: { scheme: 'hmac-sha256', header: 'X-Hub-Signature', encoding: 'hex', oneioEndpoint: 'itsm' },
  },
  eventRules: [
    { id: 'AwsHealth', eventPattern: { source: ['aws.health'] } },
    { id: 'Ec2', eventPattern: { source: ['aws.ec2'] }, oneioEndpoint: 'itsm' },
    { id: 'Rds', eventPattern: { source: ['aws.rds'] }, oneioEndpoint: 'itsm' },
    { id: 'People', eventPattern: { source: ['my.hr'] }, oneioEndpoint: 'hr' },
  ],
};

// cdk-nag runs during this synth: a finding on the aliases would throw here.
const [s] = synthRelayApp([withEndpoints]) as [SynthesizedRelay];

type Resource = { Type: string; Properties: Record<string, unknown> };

/** The resource a `{ Ref }` or `{ Fn::GetAtt }` points at. */
function referenced(value: unknown): Resource & { id: string } {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  const id = v.Ref ?? v['Fn::GetAtt']?.[0];
  const resource = id === undefined ? undefined : (s.template.toJSON().Resources[id] as Resource | undefined);
  if (id === undefined || resource === undefined)
    throw new Error(`not a reference: ${JSON.stringify(value)}`);
  return { id, ...resource };
}

function ruleTarget(ruleId: string): { Arn: unknown; DeadLetterConfig?: unknown; RetryPolicy?: unknown } {
  const rule = s.stack.relay.eventRules.find((r) => r.node.id === `Rule-${ruleId}`);
  if (rule === undefined) throw new Error(`no rule ${ruleId}`);
  const properties = s.template.toJSON().Resources[s.stack.getLogicalId(rule.node.defaultChild as CfnElement)]
    .Properties as { Targets: { Arn: unknown }[] };
  const [target] = properties.Targets;
  if (target === undefined) throw new Error(`rule ${ruleId} has no target`);
  return target;
}

describe('an event rule that names a ONEiO endpoint', () => {
  it("invokes that endpoint's alias of the relay function, whose qualifier the function reads as the endpoint", () => {
    // Act: follow the rule's target to the resource it names
    const alias = referenced(ruleTarget('Ec2').Arn);

    // Assess: an alias of this very function, at the version published from its current code
    expect(alias.Type).toBe('AWS::Lambda::Alias');
    expect(alias.Properties.FunctionName).toEqual(s.resolve(s.stack.relay.handler.functionName));
    const version = referenced(alias.Properties.FunctionVersion);
    expect(version.Type).toBe('AWS::Lambda::Version');
    expect(version.Properties.FunctionName).toEqual(s.resolve(s.stack.relay.handler.functionName));
    // What Lambda puts in the context's invokedFunctionArn when the alias is invoked:
    const invoked = `arn:aws:lambda:eu-west-1:123456789012:function:relay:${String(alias.Properties.Name)}`;
    expect(oneioEndpointOfInvocation(invoked)).toBe('itsm');
  });

  it('keeps the rule-side retry and dead-letter settings of every rule', () => {
    expect(ruleTarget('Ec2')).toMatchObject({
      DeadLetterConfig: { Arn: s.resolve(s.stack.relay.deadLetterQueue.queueArn) },
      RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
    });
  });

  it('gives the alias the asynchronous settings of the function: two retries, two hours, then the dead-letter queue', () => {
    // Prepare
    const alias = referenced(ruleTarget('Ec2').Arn);

    // Act
    const configs = Object.values(s.template.findResources('AWS::Lambda::EventInvokeConfig')).map(
      (r) => r.Properties as Record<string, unknown>,
    );
    const forAlias = configs.filter((c) => JSON.stringify(c.Qualifier).includes(`"${alias.id}"`));

    // Assess
    expect(forAlias).toEqual([
      {
        FunctionName: s.resolve(s.stack.relay.handler.functionName),
        Qualifier: { 'Fn::Select': [7, { 'Fn::Split': [':', { Ref: alias.id }] }] },
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 7200,
        DestinationConfig: { OnFailure: { Destination: s.resolve(s.stack.relay.deadLetterQueue.queueArn) } },
      },
    ]);
  });

  it('lets exactly its rules invoke the alias', () => {
    // Prepare
    const relay = s.stack.relay;
    const itsm = relay.endpointAliases.get('itsm');
    const rulesOf = (ids: string[]) =>
      relay.eventRules
        .filter((r) => ids.includes(r.node.id.replace(/^Rule-/, '')))
        .map((r) => s.resolve(r.ruleArn));

    // Act
    const permissions = Object.values(s.template.findResources('AWS::Lambda::Permission'))
      .map((p) => p.Properties as { Principal: string; SourceArn: unknown; FunctionName: unknown })
      .filter((p) => p.Principal === 'events.amazonaws.com');

    // Assess
    expect(
      permissions
        .filter((p) => JSON.stringify(p.FunctionName) === JSON.stringify(s.resolve(itsm?.functionArn)))
        .map((p) => p.SourceArn),
    ).toEqual(rulesOf(['Ec2', 'Rds']));
  });

  it('shares one alias per endpoint among its rules, and the default rules invoke the function itself', () => {
    // Act
    const aliases = Object.values(s.template.findResources('AWS::Lambda::Alias')).map(
      (r) => (r.Properties as { Name: string }).Name,
    );

    // Assess
    expect(aliases.sort()).toEqual(['oneio-endpoint-hr', 'oneio-endpoint-itsm', 'outbox-sweep']);
    expect(ruleTarget('Ec2').Arn).toEqual(ruleTarget('Rds').Arn);
    expect(referenced(ruleTarget('People').Arn).Properties.Name).toBe('oneio-endpoint-hr');
    expect(ruleTarget('AwsHealth').Arn).toEqual(s.resolve(s.stack.relay.handler.functionArn));
    expect([...s.stack.relay.endpointAliases.keys()].sort()).toEqual(['hr', 'itsm']);
  });
});

describe('a source that names a ONEiO endpoint', () => {
  it('passes it to the function with its declaration', () => {
    const env = (
      onlyResource(s.template, 'AWS::Lambda::Function').Properties.Environment as {
        Variables: Record<string, string>;
      }
    ).Variables;
    expect(JSON.parse(env[ENV.sources] ?? '{}').jira).toMatchObject({ oneioEndpoint: 'itsm' });
  });
});

describe('the shipped config', () => {
  it('creates no endpoint alias while no rule names an endpoint', () => {
    const [shipped] = synthRelayApp([qa]) as [SynthesizedRelay];
    expect(shipped.stack.relay.endpointAliases.size).toBe(0);
    expect(Object.keys(shipped.template.findResources('AWS::Lambda::Alias'))).toHaveLength(1);
  });
});

describe('validating oneio.endpoints', () => {
  function error(patch: Partial<RelayConfig>): string {
    try {
      validateConfig({ ...prod, ...patch } as RelayConfig);
    } catch (e) {
      if (e instanceof RelayConfigError) return e.message;
      throw e;
    }
    return 'no error';
  }

  it('accepts endpoints named by sources and rules', () => {
    expect(
      error({
        oneio: withEndpoints.oneio,
        sources: withEndpoints.sources,
        eventRules: withEndpoints.eventRules ?? [],
      }),
    ).toBe('no error');
  });

  it.each<[string, Partial<RelayConfig>, string]>([
    [
      'an endpoint no source or rule uses',
      { oneio: { ...prod.oneio, endpoints: ['itsm'] } },
      'prod.oneio.endpoints[0] must be named by a source or an event rule (oneioEndpoint), or removed (got "itsm")',
    ],
    [
      'a source naming an endpoint that is not declared',
      { sources: { github: { scheme: 'github', oneioEndpoint: 'itsm' } } },
      'prod.sources.github.oneioEndpoint must be one of oneio.endpoints (none declared): declare it there, e.g. oneio: { …, endpoints: [\'itsm\'] }, and put its pair in the credentials secret (got "itsm")',
    ],
    [
      'a rule naming an endpoint that is not declared',
      {
        oneio: { ...prod.oneio, endpoints: ['hr'] },
        sources: { github: { scheme: 'github', oneioEndpoint: 'hr' } },
        eventRules: [{ id: 'Ec2', eventPattern: { source: ['aws.ec2'] }, oneioEndpoint: 'itsm' }],
      },
      'prod.eventRules[0].oneioEndpoint must be one of oneio.endpoints (hr)',
    ],
    [
      'a rule naming an endpoint that is no endpoint name',
      { eventRules: [{ id: 'Ec2', eventPattern: { source: ['aws.ec2'] }, oneioEndpoint: 'ITSM desk' }] },
      'prod.eventRules[0].oneioEndpoint must be an endpoint name matching',
    ],
    [
      'an endpoint name that is no endpoint name',
      { oneio: { ...prod.oneio, endpoints: ['Itsm_Desk'] } },
      'prod.oneio.endpoints[0] must be an endpoint name matching',
    ],
    [
      'the same endpoint twice',
      {
        oneio: { ...prod.oneio, endpoints: ['itsm', 'itsm'] },
        sources: { github: { scheme: 'github', oneioEndpoint: 'itsm' } },
      },
      'prod.oneio.endpoints[1] must be unique (got "itsm")',
    ],
    [
      'endpoints that are not a list',
      { oneio: { ...prod.oneio, endpoints: 'itsm' as unknown as string[] } },
      'prod.oneio.endpoints must be a list of endpoint names',
    ],
  ])('refuses %s, naming the field', (_case, patch, message) => {
    expect(error(patch)).toContain(message);
  });
});
