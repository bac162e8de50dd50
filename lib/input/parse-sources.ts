import { parseDocument, type ParsedObject } from '../api/parse-document.js';
import { problemText } from '../api/problems.js';
import type { SourceDocument } from './load-documents.js';

interface SourceProblem {
  /** `file:document` */
  readonly where: string;
  readonly object: string;
  readonly line: string;
}

export interface ParsedSources {
  readonly objects: ParsedObject[];
  readonly problems: SourceProblem[];
}

/** Parses every document; each problem becomes one `file:doc: path: reason` line. */
export function parseSources(docs: readonly SourceDocument[]): ParsedSources {
  const objects: ParsedObject[] = [];
  const problems: SourceProblem[] = [];
  for (const doc of docs) {
    const where = `${doc.file}:${doc.index}`;
    if (doc.syntaxError) {
      problems.push({ where, object: '', line: `${where}: not valid YAML: ${doc.syntaxError}` });
      continue;
    }
    const result = parseDocument(doc.body);
    const object = result.kind ? `${result.kind}${result.name ? ` "${result.name}"` : ''}` : '';
    for (const p of result.problems) {
      problems.push({ where, object, line: `${where}: ${object ? `${object}: ` : ''}${problemText(p)}` });
    }
    if (result.object) objects.push(result.object);
  }
  return { objects, problems };
}
