import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * A created `Secret` is an `ISecret` at run time, but under exactOptionalPropertyTypes aws-cdk-lib's typings
 * disagree (`secretFullArn?: string` vs `string | undefined`), hence the union.
 */
export type RelaySecretResource = ISecret | Secret;

export interface RelaySecretProps {
  /** What the secret holds, for its description. */
  readonly purpose: string;
  /**
   * Name of an existing secret to import instead of creating one.
   *
   * @default - a secret is created with a generated name
   */
  readonly existingSecretName?: string;
  /**
   * Placeholder JSON for a created secret, completed with a random value under `generateStringKey` so the
   * template never carries a usable value. The operator overwrites it with `put-secret-value`.
   */
  readonly placeholderTemplate: Record<string, string>;
  readonly generateStringKey: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * One secret the relay reads, created by the stack or imported by name. Exposes the id the function passes to
 * GetSecretValue and grants exactly that call.
 */
export class RelaySecret extends Construct {
  readonly secret: RelaySecretResource;
  /** What the function passes as `SecretId`: the ARN of a created secret, the name of an imported one. */
  readonly secretId: string;
  readonly imported: boolean;
  /**
   * The IAM resource for this secret. An imported-by-name secret's ARN ends in six random characters AWS appends
   * at creation, which a name cannot know: `-??????` (`?` matches exactly one character) is the narrowest pattern
   * IAM offers, and it still names that one secret.
   */
  private readonly policyResource: string;

  constructor(scope: Construct, id: string, props: RelaySecretProps) {
    super(scope, id);
    if (props.existingSecretName !== undefined) {
      this.imported = true;
      this.secret = Secret.fromSecretNameV2(this, 'Secret', props.existingSecretName);
      // GetSecretValue resolves a name to the secret whatever its ARN suffix.
      this.secretId = props.existingSecretName;
      this.policyResource = `${this.secret.secretArn}-??????`;
    } else {
      this.imported = false;
      const secret = new Secret(this, 'Secret', {
        description: `oneio-relay: ${props.purpose}. Replace the placeholder with put-secret-value.`,
        generateSecretString: {
          secretStringTemplate: JSON.stringify(props.placeholderTemplate),
          generateStringKey: props.generateStringKey,
        },
        removalPolicy: props.removalPolicy,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The value is issued outside AWS (ONEiO endpoint password, SaaS webhook signing secrets) and has to be ' +
          'changed on both sides at once, so a rotation Lambda cannot rotate it; the operator puts the new value ' +
          'and the relay re-reads the secret on invalid_client / after its in-memory cache expires.',
      });
      this.secret = secret;
      this.secretId = secret.secretArn;
      this.policyResource = secret.secretArn;
    }
  }

  /** Grants `secretsmanager:GetSecretValue` on this secret only (not DescribeSecret, which the code never calls). */
  grantGetValue(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.policyResource] }),
    );
  }
}
