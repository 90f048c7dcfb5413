/** `--region` / `--profile` as given on the command line; absent ones leave the SDK's default chain in charge. */
export interface AwsOptions {
  readonly region?: string;
  readonly profile?: string;
}

export const AWS_FLAGS = {
  region: { type: 'string' },
  profile: { type: 'string' },
} as const;

/** Client configuration for an AWS SDK client: only what the operator set, everything else from the default chain. */
export function awsClientConfig(options: AwsOptions): { region?: string; profile?: string } {
  return {
    ...(options.region !== undefined && { region: options.region }),
    ...(options.profile !== undefined && { profile: options.profile }),
  };
}

export function awsOptionsFrom(values: {
  region?: string | undefined;
  profile?: string | undefined;
}): AwsOptions {
  return {
    ...(values.region !== undefined && { region: values.region }),
    ...(values.profile !== undefined && { profile: values.profile }),
  };
}
