import type { PretendResult } from '../engine/step-kind.js';

/**
 * What `emerge --pretend` said: the packages it would merge (`[ebuild  N    ] cat/pkg-1.0`), or
 * why it cannot resolve. Portage prints no machine-readable form, so this reads its messages;
 * each problem keeps Portage's own lines (up to the next blank line) so nothing is lost in the
 * classification.
 */

const MERGE = /^\[(ebuild|binary)\s+([^\]]*)\]\s+(\S+)/;
// A binary package from a binpkg-multi-instance PKGDIR is shown with its build id after the
// version (`cat/pkg-2.72-r1-1`), which is not part of the package's name and version.
const BUILD_ID = /^(.+-\d[^-/]*(?:-r\d+)?)-\d+$/;

const PROBLEMS: Array<[RegExp, string]> = [
  [/^emerge: there are no (ebuilds|binary packages) built with USE flags to satisfy/, 'use'],
  [/^emerge: there are no (ebuilds|binary packages) to satisfy/, 'missing'],
  [/^!!! All ebuilds that could satisfy .* have been masked/, 'masked'],
  [/^!!! Multiple package instances within a single package slot/, 'slot-conflict'],
  [/^\[blocks B/, 'blocker'],
  [/^The following (USE|keyword|mask|license|REQUIRED_USE flag) changes are necessary/, 'needs-config'],
  [/^!!! The ebuild selected to satisfy .* has unmet requirements/, 'unmet-requirements'],
  [/^!!! Problem resolving dependencies/, 'unsatisfied'],
  [/^!!! .*(profile is invalid|make\.profile)/, 'profile'],
  [/^!!! '.+' is not a valid package atom/, 'bad-atom'],
];

const CONTEXT_LINES = 20;

export function readEmergePretend(output: string, exitCode: number): PretendResult {
  const lines = output.split(/\r?\n/);
  const would: string[] = [];
  const problems: PretendResult['problems'] = [];
  for (const [i, line] of lines.entries()) {
    const merge = MERGE.exec(line);
    if (merge) {
      const cpv = merge[3]!.replace(/::.*$/, '');
      would.push(merge[1] === 'binary' ? cpv.replace(BUILD_ID, '$1') : cpv);
      continue;
    }
    const rule = PROBLEMS.find(([re]) => re.test(line));
    if (!rule) continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === '');
    problems.push({ kind: rule[1], lines: lines.slice(i, Math.min(end === -1 ? lines.length : end, i + CONTEXT_LINES)) });
  }
  if (exitCode !== 0 && problems.length === 0) {
    problems.push({ kind: 'failed', lines: [`emerge --pretend exited with status ${exitCode}`, ...lines.filter((l) => l.trim() !== '').slice(-CONTEXT_LINES)] });
  }
  return { ok: exitCode === 0 && problems.length === 0, would, problems };
}
