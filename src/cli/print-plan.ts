import kleur from 'kleur';
import type { Plan } from '../engine/plan.js';

export function printPlan(plan: Plan, json: boolean): void {
  const { recipe, params } = plan;
  const declared = Object.keys(recipe.file.parameters);
  if (json) {
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
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    return;
  }
  const out: string[] = [kleur.bold(`${recipe.file.name} ${recipe.file.version}`) + ` (${recipe.path})`, recipe.file.description.trim(), ''];
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
  out.push('', `${plan.steps.length} steps.`);
  process.stdout.write(out.join('\n') + '\n');
}
