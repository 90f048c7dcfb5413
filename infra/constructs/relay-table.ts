import type { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLE } from '../../functions/relay/contract';

/**
 * The DynamoDB calls the relay makes on its table, and nothing else: token store (read, lease and publish with
 * conditional Put/Update, invalidate), de-duplication records (conditional Put), outbox (Put, Update to claim and
 * reschedule (the claim returns the body), Delete on delivery), destination state (Get, conditional Update). A new
 * SDK call the function makes needs its action here, and the IAM test pins this list. No Query on the table (the
 * outbox queries its index only), no Scan, no Batch*, no DescribeTable, no ConditionCheckItem: the outbox's
 * BatchGetItem serves the operator CLI's `list`, which runs with the operator's credentials, never in the function.
 */
export const RELAY_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

/** The outbox lists due and counts parked items with a Query on its index; nothing else is possible on an index. */
const RELAY_INDEX_ACTIONS = ['dynamodb:Query'] as const;

type KeyType = 'S' | 'N' | 'B';

interface IndexLayout {
  readonly name: string;
  readonly partitionKey: { readonly name: string; readonly type: KeyType };
  readonly sortKey?: { readonly name: string; readonly type: KeyType };
  /** @default 'ALL' */
  readonly projection?: 'ALL' | 'KEYS_ONLY' | { readonly include: readonly string[] };
}

/** The part of contract.ts `TABLE` the stack builds the table from. */
interface TableLayout {
  readonly partitionKey: string;
  readonly ttlAttribute: string;
  readonly globalIndexes?: readonly IndexLayout[];
}

const ATTRIBUTE_TYPES: Readonly<Record<KeyType, AttributeType>> = {
  S: AttributeType.STRING,
  N: AttributeType.NUMBER,
  B: AttributeType.BINARY,
};

export interface RelayTableProps {
  readonly removalPolicy: RemovalPolicy;
  readonly pointInTimeRecovery: boolean;
  /** @default false */
  readonly deletionProtection?: boolean;
  /** Layout to build. @default TABLE from functions/relay/contract.ts */
  readonly layout?: TableLayout;
}

/** The index's projection in CDK's terms: whole items, keys only, or keys plus a few named attributes. */
function projectionOf(index: IndexLayout): { projectionType: ProjectionType; nonKeyAttributes?: string[] } {
  const projection = index.projection ?? 'ALL';
  if (projection === 'ALL') return { projectionType: ProjectionType.ALL };
  if (projection === 'KEYS_ONLY') return { projectionType: ProjectionType.KEYS_ONLY };
  return { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...projection.include] };
}

/**
 * The relay's single table (token items, de-duplication records, outbox items), laid out as contract.ts says, with
 * {@link RelayTable.grantRelayAccess} granting exactly the calls the code makes.
 */
export class RelayTable extends Construct {
  readonly table: Table;
  /** Names of the global secondary indexes, in contract order. */
  readonly indexNames: readonly string[];

  constructor(scope: Construct, id: string, props: RelayTableProps) {
    super(scope, id);
    const layout: TableLayout = props.layout ?? TABLE;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: layout.partitionKey, type: AttributeType.STRING },
      timeToLiveAttribute: layout.ttlAttribute,
      // Traffic is spiky (webhook storms, the outbox sweep) and small on average: on-demand costs nothing idle.
      billingMode: BillingMode.PAY_PER_REQUEST,
      // AWS-managed key: encrypted at rest, and DynamoDB authorises the key use itself, so the function role
      // needs no KMS permission.
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery },
      deletionProtection: props.deletionProtection ?? false,
      removalPolicy: props.removalPolicy,
    });
    for (const index of layout.globalIndexes ?? []) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey.name, type: ATTRIBUTE_TYPES[index.partitionKey.type] },
        ...(index.sortKey && {
          sortKey: { name: index.sortKey.name, type: ATTRIBUTE_TYPES[index.sortKey.type] },
        }),
        ...projectionOf(index),
      });
    }
    this.indexNames = (layout.globalIndexes ?? []).map((index) => index.name);
  }

  /**
   * Grants {@link RELAY_TABLE_ACTIONS} on the table, and Query on each index only, by exact ARN. Written out instead of
   * `grantReadWriteData`, which would add Batch*, Scan, DescribeTable and ConditionCheckItem.
   */
  grantRelayAccess(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...RELAY_TABLE_ACTIONS], resources: [this.table.tableArn] }),
    );
    if (this.indexNames.length > 0) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: [...RELAY_INDEX_ACTIONS],
          resources: this.indexNames.map((name) => `${this.table.tableArn}/index/${name}`),
        }),
      );
    }
  }
}
