/** Reads the Accept header the way the real server negotiates Table, PartialObjectMetadata and discovery. */
export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  return accept.split(',').map((part) => {
    const [type, ...rest] = part.split(';').map((piece) => piece.trim());
    const params: Record<string, string> = {};
    for (const piece of rest) {
      const equals = piece.indexOf('=');
      if (equals > 0) params[piece.slice(0, equals).trim().toLowerCase()] = piece.slice(equals + 1).trim();
    }
    return { type: type.toLowerCase(), params };
  });
}

export type ResponseShape = { kind: 'object' } | { kind: 'table'; metaApiVersion: string } | { kind: 'partial'; metaApiVersion: string };

/** The first acceptable alternative wins, as in the real negotiation. */
export function responseShape(accept: string | undefined): ResponseShape {
  for (const range of parseAccept(accept)) {
    const { as, g, v } = range.params;
    if (!as) return { kind: 'object' };
    if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue;
    if (as === 'Table') return { kind: 'table', metaApiVersion: `meta.k8s.io/${v}` };
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { kind: 'partial', metaApiVersion: `meta.k8s.io/${v}` };
  }
  return { kind: 'object' };
}

/** 'v2' or 'v2beta1' when the client asked for aggregated discovery, otherwise undefined (legacy). */
export function aggregatedDiscoveryVersion(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const range of parseAccept(accept)) {
    const { as, g, v } = range.params;
    if (!as) return undefined;
    if (as === 'APIGroupDiscoveryList' && g === 'apidiscovery.k8s.io' && (v === 'v2' || v === 'v2beta1')) return v;
  }
  return undefined;
}
