/**
 * A complete list read in pages (`limit` + `continue`), as client-go's reflector reads one: a cluster's
 * 100k Pods in one answer are tens of MiB the server must build and send within one request timeout, and
 * that the client must hold twice (text and parsed) at once. Pages keep every request short and let the
 * caller shrink each page (slimObject) before the next arrives.
 */
import type { JsonObject, KubeClient } from './rest-client.js';
import { isKubeStatus } from './api-error.js';
import { EgressError } from '../errors.js';
import { isRecord } from '../api/fields.js';

/** client-go's page size for informers. */
export const DEFAULT_PAGE_SIZE = 500;
/** A list whose continue token keeps expiring (a server compacting faster than we read) gives up after this many fresh starts. */
const MAX_FRESH_STARTS = 3;

export interface PagedListOptions<T> {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  /** Items per page (`limit`); default DEFAULT_PAGE_SIZE. */
  readonly pageSize?: number;
  /** Turns one page's raw items into what is kept (runs before the next page is asked for). */
  readonly keep: (items: readonly JsonObject[]) => T[];
  /** Checked between pages: false stops the list (it throws). */
  readonly live?: () => boolean;
}

export interface PagedList<T> {
  readonly items: T[];
  /** Where a watch of this list starts (the list's revision). */
  readonly resourceVersion: string;
  readonly pages: number;
  /** Lists begun again because a continue token expired (410). */
  readonly freshStarts: number;
}

/**
 * Reads every page of a collection. All pages of one list come from one revision (the server reads
 * them at the first page's resourceVersion), so that resourceVersion is the list's: a watch from it
 * misses nothing. When a continue token expires (410 Expired: the server compacted that revision),
 * the list begins again from the first page: following the token the 410 offers would give a list
 * mixing revisions, which no watch can complete.
 */
export async function listAllPages<T>(client: KubeClient, path: string, options: PagedListOptions<T>): Promise<PagedList<T>> {
  const pageSize = String(options.pageSize ?? DEFAULT_PAGE_SIZE);
  const selectors = { labelSelector: options.labelSelector || undefined, fieldSelector: options.fieldSelector || undefined };
  let pages = 0;
  for (let freshStarts = 0; ; freshStarts++) {
    const items: T[] = [];
    let resourceVersion: string | undefined;
    let token: string | undefined;
    try {
      do {
        if (options.live && !options.live()) throw new EgressError('EGW_ERR_KUBE', `list ${path}: stopped`);
        const page = await client.list(path, { ...selectors, limit: pageSize, ...(token ? { continue: token } : {}) });
        pages++;
        const metadata = isRecord(page.metadata) ? page.metadata : {};
        const raw = Array.isArray(page.items) ? page.items : [];
        items.push(...options.keep(raw.filter((o): o is JsonObject => isRecord(o))));
        // a real server gives every page the first page's revision; were one not to, the first is
        // still the revision from which a watch misses nothing
        resourceVersion ??= typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : '';
        token = typeof metadata.continue === 'string' && metadata.continue ? metadata.continue : undefined;
      } while (token);
      return { items, resourceVersion: resourceVersion ?? '', pages, freshStarts };
    } catch (err) {
      if (!(token && isKubeStatus(err, 410)) || freshStarts + 1 >= MAX_FRESH_STARTS) throw err;
    }
  }
}
