/**
 * A small XML well-formedness check for the report's SVG (no DTD, no CDATA, no processing
 * instructions but the declaration): every tag closed in order, attributes quoted, every `&`
 * an entity, no `<` in text or attributes, only characters XML allows. Returns the problems.
 */
export function xmlProblems(text: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  if (/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(text)) problems.push('a character XML does not allow');
  const body = text.replace(/^<\?xml[^?]*\?>\s*/, '');
  const token = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<!--[\s\S]*?-->|([^<]+)|(<)/g;
  let roots = 0;
  for (const m of body.matchAll(token)) {
    const [whole, close, name, attrs, selfClose, textPart, stray] = m;
    if (stray) {
      problems.push(`a stray < at ${m.index}: ${body.slice(m.index, m.index + 40)}`);
      continue;
    }
    if (whole.startsWith('<!--')) continue;
    const entities = textPart ?? attrs ?? '';
    for (const amp of entities.matchAll(/&([^;\s]*);?/g)) {
      if (!/^&(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);$/.test(amp[0])) problems.push(`a bad entity ${amp[0]} at ${m.index}`);
    }
    if (textPart !== undefined) {
      if (stack.length === 0 && textPart.trim()) problems.push(`text outside the root element at ${m.index}`);
      continue;
    }
    if (close) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}> at ${m.index}`);
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}
