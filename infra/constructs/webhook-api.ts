import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogField, AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ApiThrottling } from '../config-schema';

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
   * Also route `GET /webhooks/{source}` to the function, for a sender that checks the endpoint with a `GET` (Okta
   * event hooks). The function answers it only for sources that declare it; without any, no GET reaches it.
   *
   * @default false
   */
  readonly acceptGet?: boolean;
  readonly throttling: ApiThrottling;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** HTTP API with the single webhook route, stage throttling and JSON access logs. */
export class WebhookApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
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
      methods: props.acceptGet ? [HttpMethod.POST, HttpMethod.GET] : [HttpMethod.POST],
      integration: new HttpLambdaIntegration('Relay', props.handler, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      }),
    });
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Webhook senders are SaaS products that cannot sign with IAM or obtain Cognito/JWT tokens; every ' +
          'request is authenticated in the function by the per-source signature scheme (HMAC, Stripe, Standard ' +
          'Webhooks, Basic) before anything is relayed, and an unknown source is rejected with 404.',
      });
    }
  }

  /** Base URL the senders are given: `https://<api>.execute-api.<region>.amazonaws.com/webhooks/`. */
  get webhookBaseUrl(): string {
    return `${this.stage.url}webhooks/`;
  }
}
