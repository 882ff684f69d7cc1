import { BootstrapError } from '../util/errors.js';

/**
 * One of the guide's edits to releng (../shared/seeds/002_…, "Setup Catalyst to build proper
 * stages" to "Use Catalyst to build install media"), on a file relative to releng's top folder.
 *
 * - `replace-line`: the one line that reads exactly `old` becomes `new`;
 * - `add-line`: `new` is appended as a line; the file must exist and not hold that line yet;
 * - `create-file`: the file must not exist; it is created holding the line `new`.
 *
 * An edit that does not apply to the releng it is given (the line changed upstream, the file
 * is gone, upstream already made the change) is an error naming the file and the expected
 * text: the list is then out of date and must be reviewed, never silently skipped.
 */
export type RelengEdit =
  | { file: string; change: 'replace-line'; old: string; new: string; reason: string }
  | { file: string; change: 'add-line'; new: string; reason: string }
  | { file: string; change: 'create-file'; new: string; reason: string };

/** The init system of the stages: the guide's systemd, or releng's openrc variants. */
export type InitSystem = 'systemd' | 'openrc';

export const INIT_SYSTEMS: readonly InitSystem[] = ['systemd', 'openrc'];

/** The releng commit the edits were written against (gentoo/releng, the guide's date). */
export const RELENG_COMMIT = '87eea8b66cef13d62fc8bcf2e27a573e86423b75';

export const SPECS = 'releases/specs/amd64';
const STAGES_CONF = 'releases/portage/stages';
const ISOS_CONF = 'releases/portage/isos';

/** releng's spec files the hand-off uses, in the order Catalyst runs them. */
export function relengSpecNames(init: InitSystem): { stage1: string; stage3: string; installcd1: string; installcd2: string } {
  return {
    stage1: `stage1-${init}-23.spec`,
    // The guide builds the desktop stage3 ("Build a desktop stage3: stage3d-systemd-23.spec").
    stage3: `stage3d-${init}-23.spec`,
    installcd1: 'installcd-stage1.spec',
    installcd2: 'installcd-stage2-minimal.spec',
  };
}

const RUST_FROM_SOURCE =
  'The guide builds Rust from source ("Force use of rust, over rust-bin, so we don\'t just download binaries"). ' +
  'releng masks dev-lang/rust to force the prebuilt rust-bin; the guide\'s words name the two the other way round, its intent is this opposite mask.';

/**
 * The guide's edits, in the order the guide makes them. `seedSubpath` is the seed's
 * `source_subpath` (`<seed folder>/<seed name without suffix>`, the guide's
 * `default/stage3-bootstrap`).
 */
export function guideEdits(init: InitSystem, seedSubpath: string): RelengEdit[] {
  const specs = relengSpecNames(init);
  return [
    { file: `${STAGES_CONF}/package.mask/releng/rust`, change: 'replace-line', old: 'dev-lang/rust', new: 'dev-lang/rust-bin', reason: RUST_FROM_SOURCE },
    {
      file: `${STAGES_CONF}/profile/packages.build`,
      change: 'create-file',
      new: 'dev-lang/rust',
      reason: 'The guide: "Create …/stages/profile/packages.build, and enter a line dev-lang/rust to force rust in stage1".',
    },
    {
      file: `${STAGES_CONF}/package.use/releng/circular`,
      change: 'replace-line',
      old: 'net-misc/curl -http2 -http3 -quic -curl_quic_openssl',
      new: 'net-misc/curl http2 ssl openssl curl_ssl_openssl',
      reason: 'The guide: "Change the net-misc/curl line to read net-misc/curl http2 ssl openssl curl_ssl_openssl".',
    },
    {
      file: `${STAGES_CONF}/package.use/releng/circular`,
      change: 'add-line',
      new: 'dev-python/pillow -truetype',
      reason: 'The guide: "Add dev-python/pillow -truetype" (releng made the same fix in the commit after 87eea8b6).',
    },
    {
      file: `${SPECS}/${specs.stage1}`,
      change: 'replace-line',
      old: `source_subpath: 23.0-default/stage3-amd64-${init}-latest`,
      new: `source_subpath: ${seedSubpath}`,
      reason: 'The guide: "Set source_subpath to default/stage3-bootstrap, to use our bootstrapped seed".',
    },
    {
      file: `${SPECS}/${specs.installcd1}`,
      change: 'replace-line',
      old: 'source_subpath: 23.0-default/stage3-amd64-openrc-@TIMESTAMP@',
      new: `source_subpath: ${seedSubpath}`,
      reason: 'The guide: "For source_subpath, use our seed default/stage3-bootstrap".',
    },
    {
      file: `${ISOS_CONF}/package.accept_keywords/admincd-packages`,
      change: 'add-line',
      new: 'net-libs/mbedtls',
      reason: 'The guide: "Edit …/isos/package.accept_keywords/admincd-packages, and enter a line net-libs/mbedtls".',
    },
    { file: `${ISOS_CONF}/package.mask/releng/rust`, change: 'replace-line', old: 'dev-lang/rust', new: 'dev-lang/rust-bin', reason: `${RUST_FROM_SOURCE} The guide: "change the line to dev-lang/rust-bin".` },
    {
      file: `${SPECS}/${specs.installcd2}`,
      change: 'replace-line',
      old: '\tdev-lang/rust-bin',
      new: '\tdev-lang/rust',
      reason: 'The guide: "In the livecd/unmerge list, change dev-lang/rust-bin to dev-lang/rust" (the CD has Rust from source, not rust-bin).',
    },
  ];
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function joinLines(lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function stale(edit: RelengEdit, found: string, hint?: string): BootstrapError {
  const expected =
    edit.change === 'replace-line'
      ? `a line reading exactly ${JSON.stringify(edit.old)} (to become ${JSON.stringify(edit.new)})`
      : edit.change === 'add-line'
        ? `an existing file without the line ${JSON.stringify(edit.new)}`
        : `no such file yet (it is created holding ${JSON.stringify(edit.new)})`;
  return new BootstrapError('EHANDOFF_EDIT_STALE', `releng's ${edit.file}: the guide's edit (${edit.change}) no longer applies: ${found}`, {
    expected,
    found,
    hint:
      hint ??
      `This releng differs from the one the edits were written for (gentoo/releng ${RELENG_COMMIT.slice(0, 8)}). Review the edit in src/handoff/guide-edits.ts against the new file, or hand off with the pinned releng snapshot.`,
  });
}

/** Applies one edit to the files (path → text); throws EHANDOFF_EDIT_STALE when it does not apply. */
export function applyEdit(files: Map<string, string>, edit: RelengEdit): void {
  const current = files.get(edit.file);
  if (edit.change === 'create-file') {
    if (current !== undefined) throw stale(edit, 'the file already exists', 'releng now has this file: check whether it already holds the guide\'s line and drop or adapt the edit.');
    files.set(edit.file, joinLines([edit.new]));
    return;
  }
  if (current === undefined) throw stale(edit, 'the file does not exist');
  const lines = splitLines(current);
  if (edit.change === 'add-line') {
    if (lines.includes(edit.new)) throw stale(edit, `the file already holds the line ${JSON.stringify(edit.new)}`, 'releng made this change itself: drop the edit from src/handoff/guide-edits.ts.');
    files.set(edit.file, joinLines([...lines, edit.new]));
    return;
  }
  const at = lines.flatMap((line, i) => (line === edit.old ? [i] : []));
  if (at.length !== 1) {
    throw stale(edit, at.length === 0 ? `no line reads ${JSON.stringify(edit.old)}` : `${at.length} lines read ${JSON.stringify(edit.old)}`);
  }
  lines[at[0]!] = edit.new;
  files.set(edit.file, joinLines(lines));
}

/** Applies the edits in order to a copy of `files`. */
export function applyEdits(files: ReadonlyMap<string, string>, edits: readonly RelengEdit[]): Map<string, string> {
  const out = new Map(files);
  for (const edit of edits) applyEdit(out, edit);
  return out;
}

/** The edit list as reviewable text: one block per edit (file, change, old, new, reason). */
export function describeEdits(edits: readonly RelengEdit[]): string {
  return edits
    .map((e, i) =>
      [
        `${i + 1}. ${e.file} (${e.change})`,
        ...(e.change === 'replace-line' ? [`   - ${JSON.stringify(e.old)}`] : []),
        `   + ${JSON.stringify(e.new)}`,
        `   why: ${e.reason}`,
      ].join('\n'),
    )
    .join('\n');
}
