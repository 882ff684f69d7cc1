import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { BootstrapError } from '../../util/errors.js';
import { type FieldPath, type LineTable, lineKey, schemaError, tableLocator } from './locate.js';
import { recipeSchema, type RecipeFile } from './schema.js';

const MAX_ALIAS_COUNT = 100;

/**
 * A recipe file's bytes, parsed and validated: its data and the line of each of its nodes.
 * Throws ERECIPE naming `file:line` for YAML that does not parse and fields that do not validate.
 */
export function parseRecipe(path: string, bytes: Buffer): { file: RecipeFile; lines: LineTable } {
  const counter = new LineCounter();
  const doc = parseDocument(bytes.toString('utf8'), { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = counter.linePos(syntax.pos[0]).line;
    throw new BootstrapError('ERECIPE', `${path}:${line}: ${syntax.message.split('\n')[0]}`, {
      hint: 'The recipe is not valid YAML; fix the line named above.',
    });
  }
  const lines: LineTable = {};
  // `key` is lineKey(path of the node), grown one segment at a time rather than made again.
  const visit = (node: unknown, key: string): void => {
    if (!isNode(node)) return;
    if (node.range) lines[key] = counter.linePos(node.range[0]).line;
    const child = (segment: PropertyKey) => `${key.slice(0, -1)}${key === '[]' ? '' : ','}${lineKey([segment]).slice(1)}`;
    // The paths doc.getIn() follows: a map's scalar keys, a sequence's indexes; not into aliases.
    if (isMap(node)) for (const pair of node.items) visit(pair.value, child((isScalar(pair.key) ? pair.key.value : pair.key) as PropertyKey));
    else if (isSeq(node)) node.items.forEach((item, i) => visit(item as Node, child(i)));
  };
  visit(doc.contents, lineKey([]));
  const locate = tableLocator(path, lines);
  let data: unknown;
  try {
    // yaml's own guard against alias bombs ("billion laughs"), stated so that it stays on.
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    throw new BootstrapError('ERECIPE', `${path}: ${error instanceof Error ? error.message : String(error)} (more than ${MAX_ALIAS_COUNT} alias expansions)`, {
      hint: 'A recipe has no need for deeply nested YAML aliases; write the values out.',
    });
  }
  const parsed = recipeSchema.safeParse(data);
  if (!parsed.success) throw schemaError(parsed.error.issues, locate);
  checkUniqueIds(parsed.data, locate);
  return { file: parsed.data, lines };
}

function checkUniqueIds(file: RecipeFile, locate: (path: FieldPath) => string): void {
  const seen = new Map<string, string>();
  file.phases.forEach((phase, p) =>
    phase.steps.forEach((step, s) => {
      const where = locate(['phases', p, 'steps', s, 'id']);
      const earlier = seen.get(step.id);
      if (earlier) {
        throw new BootstrapError('ERECIPE', `${where}: step id ${step.id} is used twice (first at ${earlier})`, {
          hint: 'Step ids must be unique: resume and status name steps by id.',
        });
      }
      seen.set(step.id, where);
    }),
  );
}
