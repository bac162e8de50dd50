/** Picks the patch algorithm from the request Content-Type, like the real PATCH handler. */
import { badRequest, unsupportedMediaType } from './api-error.js';
import { applyJsonPatch } from './json-patch.js';
import type { Json } from './json.js';
import { applyMergePatch } from './merge-patch.js';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';

export type PatchType = 'json' | 'merge' | 'strategic';

export function patchTypeOf(contentType: string, allowStrategic: boolean): PatchType {
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  const accepted = ['application/json-patch+json', 'application/merge-patch+json'];
  if (allowStrategic) accepted.push('application/strategic-merge-patch+json');
  switch (mediaType) {
    case 'application/json-patch+json':
      return 'json';
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      // The real server refuses strategic merge patches for custom resources with 415 as well.
      if (allowStrategic) return 'strategic';
      throw unsupportedMediaType(mediaType, accepted);
    default:
      throw unsupportedMediaType(mediaType, accepted);
  }
}

export function applyPatch(document: Json, patchType: PatchType, patch: Json): Json {
  switch (patchType) {
    case 'json':
      return applyJsonPatch(document, patch);
    case 'merge':
      if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('merge patch must be a JSON object');
      return applyMergePatch(document, patch);
    case 'strategic':
      if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('strategic merge patch must be a JSON object');
      return applyStrategicMergePatch(document, patch);
  }
}
