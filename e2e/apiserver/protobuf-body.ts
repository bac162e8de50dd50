/**
 * kubectl's typed commands (`create namespace`, `create configmap`) send protobuf bodies. This decodes the
 * Kubernetes protobuf envelope and the few messages those commands use: ObjectMeta, Namespace, ConfigMap.
 * Any other kind is refused with 415, which kubectl reports as UnsupportedMediaType.
 */
import { ApiError } from './api-error.js';
import type { Json, JsonObject } from './json.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

interface Field {
  number: number;
  varint?: bigint;
  bytes?: Buffer;
}

function readVarint(buffer: Buffer, start: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  let position = start;
  for (;;) {
    if (position >= buffer.length) throw unsupported('truncated protobuf varint');
    const byte = buffer[position];
    position += 1;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, position];
    shift += 7n;
  }
}

function readFields(buffer: Buffer): Field[] {
  const fields: Field[] = [];
  let position = 0;
  while (position < buffer.length) {
    const [tag, afterTag] = readVarint(buffer, position);
    const number = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    position = afterTag;
    if (wireType === 0) {
      const [value, next] = readVarint(buffer, position);
      fields.push({ number, varint: value });
      position = next;
    } else if (wireType === 2) {
      const [length, next] = readVarint(buffer, position);
      fields.push({ number, bytes: buffer.subarray(next, next + Number(length)) });
      position = next + Number(length);
    } else if (wireType === 1 || wireType === 5) {
      position += wireType === 1 ? 8 : 4;
    } else {
      throw unsupported(`unsupported protobuf wire type ${wireType}`);
    }
  }
  return fields;
}

function unsupported(detail: string): ApiError {
  return new ApiError(
    'APISRV_ERR_UNSUPPORTED_MEDIA_TYPE',
    415,
    'UnsupportedMediaType',
    `the fake API server cannot decode this protobuf body (${detail}); send JSON instead, e.g. kubectl create -f / apply -f`,
  );
}

const text = (field: Field | undefined): string | undefined => field?.bytes?.toString('utf8');
const strings = (fields: Field[], number: number): string[] => fields.filter((field) => field.number === number).map((field) => text(field) ?? '');

function stringMap(fields: Field[], number: number, encodeValue: (bytes: Buffer) => string): JsonObject | undefined {
  const entries = fields.filter((field) => field.number === number && field.bytes);
  if (entries.length === 0) return undefined;
  const map: JsonObject = {};
  for (const entry of entries) {
    const parts = readFields(entry.bytes as Buffer);
    const key = text(parts.find((part) => part.number === 1)) ?? '';
    const value = parts.find((part) => part.number === 2)?.bytes ?? Buffer.alloc(0);
    map[key] = encodeValue(value);
  }
  return map;
}

function setIfPresent(target: JsonObject, key: string, value: Json | undefined): void {
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return;
  target[key] = value;
}

function objectMeta(buffer: Buffer): JsonObject {
  const fields = readFields(buffer);
  const byNumber = (number: number) => fields.find((field) => field.number === number);
  const metadata: JsonObject = {};
  setIfPresent(metadata, 'name', text(byNumber(1)));
  setIfPresent(metadata, 'generateName', text(byNumber(2)));
  setIfPresent(metadata, 'namespace', text(byNumber(3)));
  setIfPresent(metadata, 'resourceVersion', text(byNumber(6)));
  setIfPresent(
    metadata,
    'labels',
    stringMap(fields, 11, (bytes) => bytes.toString('utf8')),
  );
  setIfPresent(
    metadata,
    'annotations',
    stringMap(fields, 12, (bytes) => bytes.toString('utf8')),
  );
  setIfPresent(metadata, 'finalizers', strings(fields, 14));
  if (fields.some((field) => field.number === 13)) throw unsupported('ownerReferences');
  return metadata;
}

function decodeObject(kind: string, raw: Buffer): JsonObject {
  const fields = readFields(raw);
  const metadataField = fields.find((field) => field.number === 1)?.bytes;
  const object: JsonObject = { metadata: metadataField ? objectMeta(metadataField) : {} };
  if (kind === 'Namespace') {
    const spec = fields.find((field) => field.number === 2)?.bytes;
    const finalizers = spec ? strings(readFields(spec), 1) : [];
    if (finalizers.length > 0) object.spec = { finalizers };
    return object;
  }
  if (kind === 'ConfigMap') {
    setIfPresent(
      object,
      'data',
      stringMap(fields, 2, (bytes) => bytes.toString('utf8')),
    );
    setIfPresent(
      object,
      'binaryData',
      stringMap(fields, 3, (bytes) => bytes.toString('base64')),
    );
    const immutable = fields.find((field) => field.number === 4)?.varint;
    if (immutable !== undefined) object.immutable = immutable !== 0n;
    return object;
  }
  throw unsupported(`kind ${kind}`);
}

export function decodeKubernetesProtobuf(body: Buffer): JsonObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw unsupported('missing k8s protobuf magic');
  const envelope = readFields(body.subarray(4));
  const typeMeta = envelope.find((field) => field.number === 1)?.bytes;
  const raw = envelope.find((field) => field.number === 2)?.bytes;
  if (!typeMeta || !raw) throw unsupported('incomplete runtime.Unknown envelope');
  const typeFields = readFields(typeMeta);
  const apiVersion = text(typeFields.find((field) => field.number === 1)) ?? '';
  const kind = text(typeFields.find((field) => field.number === 2)) ?? '';
  return { apiVersion, kind, ...decodeObject(kind, raw) };
}
