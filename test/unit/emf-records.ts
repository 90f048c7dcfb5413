/** One CloudWatch embedded-metric-format record as a Powertools Metrics instance printed it. */
export interface EmfRecord {
  readonly namespace: string;
  /** Every dimension set of the record: CloudWatch stores each metric once per set. */
  readonly dimensionSets: string[][];
  readonly metrics: string[];
  /** The record's top-level fields: dimension values and metric values. */
  readonly fields: Record<string, unknown>;
}

/** The EMF records among captured output lines, in the order they were printed. */
export function emfRecords(output: string): EmfRecord[] {
  return output
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => {
      const record = JSON.parse(line) as {
        _aws: {
          CloudWatchMetrics: Array<{
            Namespace: string;
            Dimensions: string[][];
            Metrics: Array<{ Name: string }>;
          }>;
        };
      } & Record<string, unknown>;
      const directive = record._aws.CloudWatchMetrics[0];
      const { _aws, ...fields } = record;
      return {
        namespace: directive?.Namespace ?? '',
        dimensionSets: directive?.Dimensions ?? [],
        metrics: (directive?.Metrics ?? []).map((metric) => metric.Name),
        fields,
      };
    });
}
