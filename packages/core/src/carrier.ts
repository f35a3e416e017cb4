/** Reads header values from a carrier. Returns `undefined` when the key is absent. */
export interface CarrierGetter<C = unknown> {
  get(carrier: C, key: string): string | string[] | undefined;
  keys(carrier: C): string[];
}

/** Writes a header value into a carrier. */
export interface CarrierSetter<C = unknown> {
  set(carrier: C, key: string, value: string): void;
}
