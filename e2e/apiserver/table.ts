/** meta.k8s.io Table responses (kubectl get) and PartialObjectMetadata wrappers. */
import { asJsonObject, type Json, type JsonObject } from './json.js';
import type { CellColumn, ColumnDefinition } from './resource-type.js';

export const TABLE_MEDIA_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

const NAME_COLUMN: ColumnDefinition = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may ' +
    'allow a client to request the generation of an appropriate name automatically. Cannot be updated.',
  priority: 0,
};

export interface TableOptions {
  metaApiVersion: string;
  resourceVersion: string;
  continueToken?: string;
  /** Watch events after the first one leave the column definitions out, like the real server. */
  includeColumnDefinitions: boolean;
  now?: Date;
}

export function partialObjectMetadata(object: JsonObject, metaApiVersion: string): JsonObject {
  return { kind: 'PartialObjectMetadata', apiVersion: metaApiVersion, metadata: asJsonObject(object.metadata) ?? {} };
}

export function buildTable(columns: CellColumn[], objects: JsonObject[], options: TableOptions): JsonObject {
  const now = options.now ?? new Date();
  const rows: Json[] = objects.map((object) => ({
    cells: [asJsonObject(object.metadata)?.name ?? '', ...columns.map((column) => safeCell(column, object, now))],
    object: partialObjectMetadata(object, options.metaApiVersion),
  }));
  const metadata: JsonObject = { resourceVersion: options.resourceVersion };
  if (options.continueToken) metadata.continue = options.continueToken;
  return {
    kind: 'Table',
    apiVersion: options.metaApiVersion,
    metadata,
    columnDefinitions: options.includeColumnDefinitions ? [NAME_COLUMN, ...columns.map(columnDefinition)].map((column) => ({ ...column })) : null,
    rows,
  };
}

function columnDefinition({ name, type, format, description, priority }: CellColumn): ColumnDefinition {
  return { name, type, format, description, priority };
}

function safeCell(column: CellColumn, object: JsonObject, now: Date): Json {
  try {
    return column.cell(object, now);
  } catch {
    return null;
  }
}
