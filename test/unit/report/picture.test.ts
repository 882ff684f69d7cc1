import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { engineDeps, kindOptions } from '../../../src/cli/engine-deps.js';
import { formatDuration } from '../../../src/engine/reporter.js';
import { layoutReport } from '../../../src/report/layout.js';
import { allPackages } from '../../../src/report/model.js';
import { readRun } from '../../../src/report/read-run.js';
import { escapeXml, renderSvg } from '../../../src/report/svg.js';
import { renderTable } from '../../../src/report/table.js';
import { tempDir } from '../../helpers/env.js';
import { syntheticRun } from './synthetic-run.js';
import { xmlProblems } from './xml-check.js';

const deps = (work: string) => engineDeps(kindOptions({ work }));

/** Text shapes on the same baseline whose estimated extents overlap (monospace, 0.602 em). */
function overlappingLabels(scene: ReturnType<typeof layoutReport>): string[] {
  const size = (cls: string) => (/small|pkg/.test(cls) ? 9 : /h1/.test(cls) ? 15 : 11);
  const texts = scene.shapes.flatMap((s) => (s.type === 'text' ? [s] : []));
  const byRow = new Map<number, Array<[number, number, string]>>();
  for (const s of texts) {
    const w = s.text.length * size(s.cls) * 0.602;
    const x1 = s.anchor === 'end' ? s.x - w : s.anchor === 'middle' ? s.x - w / 2 : s.x;
    const row = byRow.get(s.y) ?? [];
    row.push([x1, x1 + w, s.text]);
    byRow.set(s.y, row);
  }
  const out: string[] = [];
  for (const row of byRow.values()) {
    row.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < row.length; i++) if (row[i]![0] < row[i - 1]![1] - 0.5) out.push(`${row[i - 1]![2]} / ${row[i]![2]}`);
  }
  return out;
}

describe('the picture of a long run', () => {
  let dir: { path: string; remove: () => void } | undefined;
  afterEach(() => dir?.remove());

  it('360 steps and 2,000 packages: well-formed, under 1 MB, every step and package with its duration, no overlapping labels', async () => {
    dir = tempDir('bootstrap-report-');
    const run = syntheticRun(dir.path, { phases: 12, stepsPerPhase: 30, emergeEvery: 4, packages: 2000 });
    const data = await readRun(run.work, deps(run.work));
    expect(data.notes).toEqual([]);
    const scene = layoutReport(data);
    const svg = renderSvg(scene);
    expect(xmlProblems(svg)).toEqual([]);
    expect(Buffer.byteLength(svg)).toBeLessThan(1024 * 1024);
    expect(overlappingLabels(scene)).toEqual([]);
    const packages = allPackages(data);
    expect(packages.filter((p) => p.status === 'done')).toHaveLength(2000);
    for (const [name, ms] of run.packages) {
      const p = packages.find((q) => q.name === name && q.status === 'done')!;
      expect(p.end - p.start, name).toBe(ms);
      expect(svg).toContain(`${name} (${p.index} of ${p.total}) to /: `);
    }
    expect(packages.find((p) => p.name === run.failedPackage)).toMatchObject({ status: 'failed', exitStatus: 1 });
    for (const step of run.steps) {
      expect(svg).toContain(`<title>${step.id} (${step.kind})`);
      step.attempts.forEach((a, i) => {
        expect(svg).toContain(`${step.id} attempt ${i + 1}: ${a.exitCode ? `failed with exit status ${a.exitCode}` : 'done'}`);
        expect(svg).toMatch(new RegExp(`${step.id} attempt ${i + 1}: [^\\n]*\\n[^\\n]* \\(${formatDuration(a.durationMs)}\\)`));
      });
    }
    // The night between the failure and the resume is squeezed, not drawn to scale.
    expect(svg).toContain('paused 10:00:00');
    const table = renderTable(data, 5);
    expect(table.split('\n').filter((l) => /^\s+\d+:\d\d/.test(l))).toHaveLength(10);
  });

  it('a run still going, with a torn emerge.log line: what is known, and notes', async () => {
    dir = tempDir('bootstrap-report-');
    const run = syntheticRun(dir.path, { phases: 3, stepsPerPhase: 5, emergeEvery: 2, packages: 40, stillGoing: true, tornLog: true, start: Date.now() - 16 * 3600_000 });
    const data = await readRun(run.work, deps(run.work));
    const svg = renderSvg(layoutReport(data));
    expect(xmlProblems(svg)).toEqual([]);
    expect(data.state).toBe('running');
    expect(data.notes.join('\n')).toMatch(/has started and not ended: the run is still going/);
    expect(data.notes.join('\n')).toMatch(/emerge\.log line \d+ is not an emerge\.log line \(torn\?\): "17369"/);
    expect(data.notes.join('\n')).toMatch(/>>> emerge \(9 of"; left out/);
    expect(allPackages(data).filter((p) => p.status === 'running')).toHaveLength(1);
    expect(svg).toContain('still merging');
    expect(svg).toContain(escapeXml('>>> emerge (9 of'));
    expect(readFileSync(run.emergeLog, 'utf8')).toContain('17369');
  });

  it('escapes markup and drops characters XML cannot hold', () => {
    expect(escapeXml(`a<b>&"c'\u0001\uD800`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;\uFFFD\uFFFD');
    const scene = { width: 10, height: 10, title: '<&>', shapes: [{ type: 'text' as const, x: 0, y: 0, text: ']]> & <script>', cls: 'x"y', title: '\u0000' }] };
    expect(xmlProblems(renderSvg(scene))).toEqual([]);
  });
});
