/** Per-source webhook signing secrets. Several per source during a rotation: any of them verifies a request. */
export interface SigningSecrets {
  /** The secrets configured for `source`; empty when the operator has not set any. */
  forSource(source: string): Promise<readonly string[]>;
}
