/** Tiny builders for structural OpenAPI v3 schemas, so the CRD source reads like the API. */
export type Schema = Record<string, unknown>;

export const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
export const bool = (extra: Schema = {}): Schema => ({ type: 'boolean', ...extra });
export const int = (extra: Schema = {}): Schema => ({ type: 'integer', format: 'int32', ...extra });
export const list = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
export const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({ type: 'object', properties, ...extra });
export const rule = (expression: string, message: string): { rule: string; message: string } => ({ rule: expression, message });

const octet = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const v4 = `${octet}(\\.${octet}){3}`;
const v6 = '[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}';

export const IPV4 = `^${v4}$`;
export const IPV6 = `^${v6}$`;
/** Explicit EIP fields accept "" as unset, as spidernet manifests often carry it. */
export const OPTIONAL_IPV4 = `^(${v4})?$`;
export const OPTIONAL_IPV6 = `^(${v6})?$`;
/** A single address, `a-b` range or CIDR of one family. */
export const IPV4_SPEC = `^${v4}(/([0-9]|[12][0-9]|3[0-2])|-${v4})?$`;
export const IPV6_SPEC = `^${v6}(/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])|-${v6})?$`;
/** Either family. */
export const IP_SPEC = `^(${v4}(/([0-9]|[12][0-9]|3[0-2])|-${v4})?|${v6}(/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])|-${v6})?)$`;
export const CIDR = `^(${v4}/([0-9]|[12][0-9]|3[0-2])|${v6}/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$`;

export const labelSelector = (): Schema =>
  obj({
    matchLabels: { type: 'object', additionalProperties: str() },
    matchExpressions: list(
      obj(
        {
          key: str(),
          operator: str({ enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
          values: list(str()),
        },
        { required: ['key', 'operator'] },
      ),
    ),
  }, { 'x-kubernetes-map-type': 'atomic' });

export const condition = (): Schema =>
  obj(
    {
      type: str({ maxLength: 316 }),
      status: str({ enum: ['True', 'False', 'Unknown'] }),
      reason: str({ maxLength: 1024 }),
      message: str({ maxLength: 32768 }),
      observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
      lastTransitionTime: str({ format: 'date-time' }),
    },
    { required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'] },
  );

export const conditions = (): Schema => list(condition(), { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
