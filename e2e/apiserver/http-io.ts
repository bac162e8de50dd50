/** Reading request bodies and writing JSON responses and Status errors. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest, internalError } from './api-error.js';
import type { Json } from './json.js';
import { decodeKubernetesProtobuf } from './protobuf-body.js';

const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new ApiError('APISRV_ERR_BAD_REQUEST', 413, 'RequestEntityTooLarge', `request entity too large: limit is ${MAX_BODY_BYTES}`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** JSON, YAML or (for a few kinds) Kubernetes protobuf, by Content-Type; an empty body is undefined. */
export function parseBody(raw: Buffer, contentType: string | undefined): Json | undefined {
  if (/^application\/vnd\.kubernetes\.protobuf/i.test(contentType ?? '')) return decodeKubernetesProtobuf(raw);
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  const isYaml = /yaml/i.test(contentType ?? '') && !/apply-patch/i.test(contentType ?? '');
  try {
    return (isYaml ? parseYaml(text) : JSON.parse(text)) as Json;
  } catch (error) {
    throw badRequest(`error decoding request body: ${(error as Error).message}`);
  }
}

export function sendJson(response: ServerResponse, status: number, body: Json, options: { contentType?: string; warnings?: string[]; pretty?: boolean } = {}): void {
  const payload = `${options.pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body)}\n`;
  const headers: Record<string, string | string[]> = {
    'Content-Type': options.contentType ?? 'application/json',
    'Content-Length': String(Buffer.byteLength(payload)),
  };
  if (options.warnings?.length) headers.Warning = options.warnings.map((warning) => `299 - ${JSON.stringify(warning)}`);
  response.writeHead(status, headers);
  response.end(payload);
}

export function sendError(response: ServerResponse, error: unknown): void {
  const apiError = error instanceof ApiError ? error : internalError(error instanceof Error ? error.message : String(error));
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendJson(response, apiError.httpStatus, apiError.toStatus());
}

export function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
  response.end(text);
}
