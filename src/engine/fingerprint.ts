import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A step's fingerprint: what it does (kind, root, rendered detail), never when or how long. */
export function fingerprint(material: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(material))}`;
}

/** What a step's fingerprint is made of (see buildPlan). */
export interface FingerprintMaterial {
  kind: string;
  root: { path: string; shell: string[]; prelude: string; env: Readonly<Record<string, string>> };
  detail: Record<string, unknown>;
}

/** The most rendered text a step's journal entry keeps for `bootstrap why` to diff. */
export const INPUT_TEXT_BUDGET = 16 * 1024;

/**
 * The material split into named inputs, each with its value: `kind`, `root.path`, `root.shell`,
 * `root.prelude`, `root.env.NAME`, then the detail's keys (one level further for an object,
 * e.g. `env.NAME`, `files.NAME`), and `file PATH` for each file the step writes (its bytes'
 * sha256). One input changed is what `bootstrap why` names.
 */
export function fingerprintInputs(material: FingerprintMaterial, writes: ReadonlyArray<{ path: string; sha256: string }> = []): Map<string, { value: unknown; digest: string }> {
  const inputs = new Map<string, { value: unknown; digest: string }>();
  const add = (name: string, value: unknown) => inputs.set(name, { value, digest: sha256Hex(canonicalJson(value) ?? 'undefined').slice(0, 16) });
  add('kind', material.kind);
  add('root.path', material.root.path);
  add('root.shell', material.root.shell);
  add('root.prelude', material.root.prelude);
  for (const [k, v] of Object.entries(material.root.env)) add(`root.env.${k}`, v);
  for (const [k, v] of Object.entries(material.detail)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      for (const [sub, subValue] of Object.entries(v as Record<string, unknown>)) add(`${k}.${sub}`, subValue);
    } else {
      add(k, v);
    }
  }
  for (const w of writes) inputs.set(`file ${w.path}`, { value: undefined, digest: w.sha256.slice(0, 16) });
  return inputs;
}

/** name → digest, as the journal keeps it. */
export function inputDigests(inputs: ReadonlyMap<string, { digest: string }>): Record<string, string> {
  return Object.fromEntries([...inputs].map(([name, { digest }]) => [name, digest]));
}

/** The text inputs worth keeping for a diff: strings, the shortest first, within the budget. */
export function inputTexts(inputs: ReadonlyMap<string, { value: unknown }>, budget = INPUT_TEXT_BUDGET): Record<string, string> {
  const texts: Record<string, string> = {};
  let used = 0;
  const strings = [...inputs].filter((entry): entry is [string, { value: string }] => typeof entry[1].value === 'string');
  for (const [name, { value }] of strings.sort((a, b) => a[1].value.length - b[1].value.length)) {
    const size = Buffer.byteLength(value);
    if (used + size > budget) break;
    texts[name] = value;
    used += size;
  }
  return texts;
}
