import { Aws, Fn, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogField, AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  ApiMapping,
  DomainName,
  EndpointType,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
  SecurityPolicy,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { SourceDeclarations } from '../../functions/relay/core/inbound/source-declaration';
import type { ApiThrottling, WebhookDomain } from '../config-schema';

/** The route SaaS senders call; `{source}` is a source declared in the environment's config. */
export const WEBHOOK_ROUTE_PATH = '/webhooks/{source}';

/**
 * One JSON line per request. Headers are left out on purpose: they carry the senders' signatures (and, for the
 * `basic` scheme, credentials).
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: AccessLogField.contextRequestId(),
    ip: AccessLogField.contextIdentitySourceIp(),
    userAgent: AccessLogField.contextIdentityUserAgent(),
    requestTime: AccessLogField.contextRequestTime(),
    httpMethod: AccessLogField.contextHttpMethod(),
    routeKey: AccessLogField.contextRouteKey(),
    path: AccessLogField.contextPath(),
    status: AccessLogField.contextStatus(),
    protocol: AccessLogField.contextProtocol(),
    responseLength: AccessLogField.contextResponseLength(),
    latency: AccessLogField.contextResponseLatency(),
    integrationLatency: AccessLogField.contextIntegrationLatency(),
    integrationStatus: AccessLogField.contextIntegrationStatus(),
    integrationError: AccessLogField.contextIntegrationErrorMessage(),
    error: AccessLogField.contextErrorMessage(),
  }),
);

export interface WebhookApiProps {
  readonly handler: IFunction;
  /**
   * The declared sources: the API's authorization acknowledgement names how each one is authenticated, and
   * `GET /webhooks/{source}` is routed too when one of them is checked by a `GET` (Okta event hooks).
   */
  readonly sources: SourceDeclarations;
  readonly throttling: ApiThrottling;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** @default - the `execute-api` URL only */
  readonly customDomain?: WebhookDomain;
}

/** HTTP API with the single webhook route, stage throttling, JSON access logs and an optional custom domain. */
export class WebhookApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogGroup: LogGroup;
  /** The custom domain, when the config names one. */
  readonly domain?: DomainName;
  /** Base URL the senders are given: `https://<custom domain or API endpoint>/webhooks/`. */
  readonly webhookBaseUrl: string;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      // API Gateway delivers access logs as vended logs. Under this prefix CloudWatch Logs authorises the delivery
      // without adding to the account's log resource policy, which is capped at 5120 characters and fills up in a
      // busy account. The stack id's random part keeps the name free for a recreated stack when a retained group
      // of a deleted one still exists.
      logGroupName: `/aws/vendedlogs/apigateway/${Stack.of(this).stackName}/${id}-access-${stackGuid()}`,
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    // The default stage is built explicitly: HttpApi's own default stage takes neither throttling nor access logs.
    this.api = new HttpApi(this, 'Api', {
      description: 'oneio-relay: SaaS webhooks in, ONEiO messages out',
      createDefaultStage: false,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttling.rateLimit, burstLimit: props.throttling.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: ACCESS_LOG_FORMAT,
      },
    });
    const routes = this.api.addRoutes({
      path: WEBHOOK_ROUTE_PATH,
      methods: acceptsGet(props.sources) ? [HttpMethod.POST, HttpMethod.GET] : [HttpMethod.POST],
      integration: new HttpLambdaIntegration('Relay', props.handler, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      }),
    });
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: authorizationReason(props.sources),
      });
    }

    if (props.customDomain !== undefined) {
      this.domain = new DomainName(this, 'Domain', {
        domainName: props.customDomain.domainName,
        certificate: Certificate.fromCertificateArn(this, 'Certificate', props.customDomain.certificateArn),
        endpointType: EndpointType.REGIONAL,
        securityPolicy: SecurityPolicy.TLS_1_2,
      });
      new ApiMapping(this, 'DomainMapping', { api: this.api, domainName: this.domain, stage: this.stage });
      this.webhookBaseUrl = `https://${props.customDomain.domainName}/webhooks/`;
    } else {
      this.webhookBaseUrl = `${this.stage.url}webhooks/`;
    }
  }
}

/**
 * A sender that checks the endpoint with a `GET` (Okta event hooks) needs the route; the function answers it only for
 * the sources that declare it, and without any, no GET reaches the function.
 */
function acceptsGet(sources: SourceDeclarations): boolean {
  return Object.values(sources).some((source) => source.oktaVerification === true);
}

/** The random part of the stack id (`arn:…:stack/<name>/<guid>`), new for every creation of the stack. */
function stackGuid(): string {
  return Fn.select(2, Fn.split('/', Aws.STACK_ID));
}

/**
 * Why the route has no API Gateway authorizer, written from the declared sources so the acknowledgement never claims
 * more than the config does: an `unauthenticated` source is named as such.
 */
export function authorizationReason(sources: SourceDeclarations): string {
  const entries = Object.entries(sources);
  const signed = entries.filter(([, source]) => source.scheme !== 'unauthenticated');
  const open = entries.filter(([, source]) => source.scheme === 'unauthenticated');
  const parts = [
    'Webhook senders are SaaS products that cannot sign with IAM or obtain Cognito/JWT tokens, so the function ' +
      'checks each request by its source before relaying anything, and answers 404 for an undeclared source.',
  ];
  if (signed.length > 0) {
    parts.push(
      `Authenticated by their scheme: ${signed.map(([name, source]) => `${name} (${source.scheme})`).join(', ')}.`,
    );
  }
  if (open.length > 0) {
    const described = open.map(([name, source]) =>
      source.allowCidrs
        ? `${name} (source IPs ${source.allowCidrs.join(', ')} only)`
        : `${name} (open to anyone)`,
    );
    parts.push(
      `NOT authenticated, by this environment's config: ${described.join(', ')}; every synth warns about it.`,
    );
  }
  return parts.join(' ');
}
