import { BootstrapError } from '../util/errors.js';
import { applyEdits, guideEdits, relengSpecNames, SPECS, type InitSystem, type RelengEdit } from './guide-edits.js';
import { checkToken } from './spec-file.js';

export type StageId = 'stage1' | 'stage3' | 'installcd-stage1' | 'installcd-stage2-minimal';

/** The Catalyst runs of a hand-off, in the order they must happen, with releng's spec file names. */
export function stagesFor(init: InitSystem): Array<{ id: StageId; file: string }> {
  const names = relengSpecNames(init);
  return [
    { id: 'stage1', file: names.stage1 },
    { id: 'stage3', file: names.stage3 },
    { id: 'installcd-stage1', file: names.installcd1 },
    { id: 'installcd-stage2-minimal', file: names.installcd2 },
  ];
}

/** The guide's choice: systemd stage1, desktop systemd stage3, the minimal install CD. */
export const DEFAULT_INIT: InitSystem = 'systemd';
export const STAGES = stagesFor(DEFAULT_INIT);

export interface SpecSettings {
  init: InitSystem;
  /** releng's files (paths relative to releng's top folder, e.g. `releases/specs/amd64/…`). */
  releng: ReadonlyMap<string, string>;
  /** `@TIMESTAMP@`, e.g. `2025-06-12`. */
  timestamp: string;
  /** `@DATESTAMP@` (catalyst-auto's `date -u +%Y%m%d`), e.g. `20250612`. */
  datestamp: string;
  /** `@TREEISH@`; `@TREEISH@` itself keeps the placeholder. */
  treeish: string;
  /** `source_subpath` of the seed, e.g. `default/stage3-bootstrap`. */
  seedSubpath: string;
  /** `@REPO_DIR@`: where the edited releng files go, as Catalyst's machine sees it. */
  repoDir: string;
}

export interface RelengOutput {
  /** Spec file name → text, placeholders filled. */
  specs: Record<string, string>;
  /** The releng files the specs name through `@REPO_DIR@`, edited, by path relative to repoDir. */
  repoFiles: Map<string, string>;
  /** The edits applied, in order. */
  edits: RelengEdit[];
}

const PLACEHOLDER = /@[A-Z_]+@/g;

/** Fills releng's placeholders in one spec, checking each filled value the way Catalyst's parser reads it. */
function fillSpec(file: string, text: string, values: Record<string, string>): string {
  let key = '';
  const out = text.split('\n').map((line) => {
    const body = line.replace(/\s*#.*$/, '');
    const colon = body.indexOf(':');
    const onKeyLine = colon >= 0;
    if (onKeyLine) key = body.slice(0, colon).trim();
    if (!/@[A-Z_]+@/.test(body)) return line;
    const filled = line.replace(PLACEHOLDER, (name) => {
      const value = values[name];
      if (value === undefined) {
        throw new BootstrapError('EHANDOFF_RELENG', `${file}: releng's spec uses the placeholder ${name}, which the hand-off does not know`, {
          expected: Object.keys(values).join(', '),
          found: name,
          hint: 'releng changed its placeholders: teach src/handoff/specs.ts the new one.',
        });
      }
      return value;
    });
    const tokens = (onKeyLine ? filled.slice(filled.indexOf(':') + 1) : filled).replace(/\s*#.*$/, '').trim().split(/\s+/).filter(Boolean);
    for (const token of tokens) checkToken(file, key, token, onKeyLine);
    return filled;
  });
  return out.join('\n');
}

/** The paths below `@REPO_DIR@` that a spec names (portage_confdir trees, kernel configs). */
function repoPaths(text: string): string[] {
  return [...text.matchAll(/@REPO_DIR@\/(\S+)/g)].map((m) => m[1]!.replace(/\/+$/, ''));
}

/**
 * releng's own specs and the files they name, with the guide's edits applied (see
 * guide-edits.ts) and the placeholders filled. Throws before anything is written.
 */
export function buildSpecs(s: SpecSettings): RelengOutput {
  const edits = guideEdits(s.init, s.seedSubpath);
  const edited = applyEdits(s.releng, edits);
  const values: Record<string, string> = {
    '@TIMESTAMP@': s.timestamp,
    '@DATESTAMP@': s.datestamp,
    '@REPO_DIR@': s.repoDir,
    '@TREEISH@': s.treeish,
  };
  const specs: Record<string, string> = {};
  const repoFiles = new Map<string, string>();
  for (const stage of stagesFor(s.init)) {
    const path = `${SPECS}/${stage.file}`;
    const text = edited.get(path);
    if (text === undefined) {
      throw new BootstrapError('EHANDOFF_RELENG', `releng has no ${path}`, { hint: 'Give a releng checkout or snapshot that has the amd64 specs.' });
    }
    specs[stage.file] = fillSpec(stage.file, text, values);
    for (const sub of repoPaths(text)) {
      const found = [...edited].filter(([p]) => p === sub || p.startsWith(`${sub}/`));
      if (found.length === 0) {
        throw new BootstrapError('EHANDOFF_RELENG', `${stage.file} names @REPO_DIR@/${sub}, which this releng does not have`, {
          hint: 'Give a complete releng checkout or snapshot (releases/portage, releases/kconfig).',
        });
      }
      for (const [p, t] of found) repoFiles.set(p, t);
    }
  }
  return { specs, repoFiles, edits };
}
