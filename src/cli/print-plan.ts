import kleur from 'kleur';
import type { Plan } from '../engine/plan.js';

export interface PlanRefusal {
  /** The step a run would refuse, or null for the run as a whole (a parameter not given). */
  step: string | null;
  message: string;
}

/** Everything a run would refuse, in the order it would meet them: parameters first, then steps. */
export function planRefusals(plan: Plan): PlanRefusal[] {
  const { recipe, params } = plan;
  const missing = Object.keys(recipe.file.parameters).filter((k) => params.sources[k] === 'missing');
  return [
    ...missing.map((k) => {
      const value = recipe.file.parameters[k]?.type === 'directory' ? 'DIR' : 'VALUE';
      return { step: null, message: `parameter ${k} is not given (give --${k} ${value} or --set ${k}=${value})` };
    }),
    ...plan.steps.flatMap((s) => (s.plan.refusals ?? []).map((message) => ({ step: s.id, message: message.startsWith(`step ${s.id}:`) ? message : `step ${s.id}: ${message}` }))),
  ];
}

/**
 * Prints the plan: a summary that fits a screen (phases, roots, what is unpinned, what a run
 * would refuse, the kinds' notes), then, with `scripts`, every step in full. Returns the
 * refusals; the command exits 2 when there are any.
 */
export function printPlan(plan: Plan, options: { json: boolean; scripts?: boolean }): PlanRefusal[] {
  const { recipe, params } = plan;
  const declared = Object.keys(recipe.file.parameters);
  const refusals = planRefusals(plan);
  if (options.json) {
    const doc = {
      recipe: { name: recipe.file.name, version: recipe.file.version, description: recipe.file.description, path: recipe.path, digest: recipe.digest },
      parameters: Object.fromEntries(declared.map((k) => [k, { value: params.values[k], source: params.sources[k] }])),
      roots: Object.fromEntries(Object.values(plan.roots).map((r) => [r.name, { path: r.path, host: r.host, shell: r.shell }])),
      phases: plan.phases.map((phase) => ({
        id: phase.id,
        title: phase.title,
        steps: phase.steps.map((s) => ({
          id: s.id,
          title: s.title,
          kind: s.kind.name,
          root: s.root.name,
          needsRoot: s.needsRoot,
          fingerprint: s.fingerprint,
          summary: s.plan.summary,
          detail: s.plan.detail,
          writes: s.plan.writes ?? [],
          distfiles: s.plan.distfiles ?? [],
        })),
      })),
      omitted: plan.omitted,
      refusals,
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    return refusals;
  }
  const out: string[] = [kleur.bold(`${recipe.file.name} ${recipe.file.version}`) + ` (${recipe.path})`, ...summary(plan, refusals)];
  if (options.scripts) out.push('', ...full(plan));
  const hint = `${options.scripts ? '' : ' The scripts and files: bootstrap plan --scripts (or -v);'} as JSON: --json.`;
  if (refusals.length) {
    out.push('', `${plan.steps.length} steps.${hint}`);
    out.push(kleur.red(`A run would be refused: ${refusals[0]!.message}${refusals.length > 1 ? ` (and ${refusals.length - 1} more above)` : ''}`));
  } else {
    out.push('', `A run would go ahead: ${plan.steps.length} steps.${hint}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return refusals;
}

function summary(plan: Plan, refusals: PlanRefusal[]): string[] {
  const { params } = plan;
  const out: string[] = [];
  const description = plan.recipe.file.description.trim().replace(/\s+/g, ' ');
  if (description) out.push(description);
  out.push('', kleur.bold(`Phases (${plan.steps.length} steps)`));
  for (const phase of plan.phases) {
    out.push(`  ${phase.id} (${phase.steps.length} step${phase.steps.length === 1 ? '' : 's'}): ${phase.steps.map((s) => s.id).join(', ')}`);
  }
  for (const phase of plan.omitted) out.push(`  ${phase.id}: left out, ${phase.reason}`);
  out.push('', kleur.bold('Roots'));
  const width = Math.max(...Object.keys(plan.roots).map((n) => n.length)) + 1;
  for (const r of Object.values(plan.roots)) {
    const where = r.host ? 'the host (no chroot)' : r.path;
    const unset = [...r.path.matchAll(/<([A-Za-z0-9_]+)>/g)].map((m) => m[1]!).filter((k) => params.sources[k] === 'missing');
    out.push(`  ${`${r.name}:`.padEnd(width)} ${where}${unset.length ? `  ${kleur.yellow(`not given: ${unset.map((k) => `--${k} ${plan.recipe.file.parameters[k]?.type === 'directory' ? 'DIR' : 'VALUE'}`).join(', ')}`)}` : ''}`);
  }
  const notes = plan.steps.filter((s) => s.plan.notes?.length);
  const unpinned = notes.flatMap((s) => s.plan.notes!.filter((n) => n.startsWith('unpinned: ')).map((n) => `${n} (step ${s.id})`));
  if (unpinned.length) out.push('', kleur.bold('Inputs'), ...unpinned.map((n) => `  ${n}`));
  for (const s of notes) {
    const other = s.plan.notes!.filter((n) => !n.startsWith('unpinned: '));
    if (other.length) out.push('', kleur.bold(`Step ${s.id}`), ...other.map((n) => `  ${n.replace(/^ {2}/, '')}`));
  }
  if (refusals.length) {
    out.push('', kleur.bold(kleur.red('A run would refuse')));
    for (const r of refusals) out.push(`  ${r.message}`);
  }
  return out;
}

function full(plan: Plan): string[] {
  const { recipe, params } = plan;
  const out: string[] = [];
  const declared = Object.keys(recipe.file.parameters);
  if (declared.length) {
    out.push(kleur.bold('Parameters'));
    for (const k of declared) {
      const source = params.sources[k];
      out.push(`  ${k} = ${params.values[k]}  ${kleur.dim(`(${source === 'missing' ? 'not given; needed to run' : source})`)}`);
    }
    out.push('');
  }
  out.push(kleur.bold('Roots'));
  for (const r of Object.values(plan.roots)) out.push(`  ${r.name}: ${r.host ? 'the host (no chroot)' : `${r.path} (${r.shell.join(' ')})`}`);
  for (const phase of plan.phases) {
    out.push('', kleur.bold(`Phase ${phase.id}: ${phase.title}`));
    for (const s of phase.steps) {
      out.push(`  ${String(s.index + 1).padStart(3)}. ${kleur.cyan(s.id)} [${s.kind.name} in ${s.root.name}]${s.title !== s.id ? ` ${s.title}` : ''}  ${kleur.dim(s.fingerprint.slice(0, 19))}`);
      for (const line of s.plan.summary) out.push(`       ${line}`);
      if (s.plan.distfiles?.length) out.push(`       distfiles: ${s.plan.distfiles.join(', ')}`);
    }
  }
  return out;
}
