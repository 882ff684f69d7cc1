import { isAbsolute } from 'node:path';
import { BootstrapError } from '../util/errors.js';
import { fingerprint, type FingerprintMaterial } from './fingerprint.js';
import type { ResolvedParams } from './params.js';
import { schemaError } from './recipe/locate.js';
import type { LoadedRecipe } from './recipe/load-recipe.js';
import { renderDeep, renderTemplate } from './render.js';
import { resolveHostPath, systemDirectory } from './root-guard.js';
import type { Root, StepKind, StepKindRegistry, StepPlan } from './step-kind.js';

export interface PlannedStep {
  index: number;
  id: string;
  phase: string;
  title: string;
  kind: StepKind<unknown>;
  root: Root;
  spec: unknown;
  plan: StepPlan;
  fingerprint: string;
  /** What the fingerprint is a hash of; the journal keeps its inputs' digests (`bootstrap why`). */
  material: FingerprintMaterial;
  needsRoot: boolean;
}

export interface Plan {
  recipe: LoadedRecipe;
  params: ResolvedParams;
  roots: Record<string, Root>;
  phases: Array<{ id: string; title: string; steps: PlannedStep[] }>;
  steps: PlannedStep[];
  /** Phases left out (`unless_set`), with why. */
  omitted: Array<{ id: string; title: string; reason: string }>;
}

export const HOST_ROOT: Root = Object.freeze({ name: 'host', path: '/', host: true, shell: ['/bin/bash'], prelude: '', preflightPrelude: '', env: {} });

/** Everything a run would do, rendered and fingerprinted, without doing any of it. */
export interface PlanOptions {
  preview?: boolean;
  /** Moves roots elsewhere (a preflight's overlay); a step's fingerprint keeps the real path. */
  mapRoot?: (root: Root) => Root;
}

export async function buildPlan(recipe: LoadedRecipe, params: ResolvedParams, registry: StepKindRegistry, options: PlanOptions = {}): Promise<Plan> {
  const values = params.values;
  const real = resolveRoots(recipe, values);
  const map = options.mapRoot ?? ((root: Root) => root);
  const roots = Object.fromEntries(Object.entries(real).map(([name, root]) => [name, map(root)]));
  const phases: Plan['phases'] = [];
  const steps: PlannedStep[] = [];
  const omitted: Plan['omitted'] = [];
  for (const [p, phase] of recipe.file.phases.entries()) {
    if (phase.unless_set !== undefined) {
      if (!(phase.unless_set in recipe.file.parameters)) {
        throw new BootstrapError('ERECIPE', `${recipe.locate(['phases', p, 'unless_set'])}: phase ${phase.id}: unless_set names ${phase.unless_set}, which is not a parameter of this recipe`, {
          hint: `Its parameters are: ${Object.keys(recipe.file.parameters).sort().join(', ') || 'none'}.`,
        });
      }
      if (params.sources[phase.unless_set] === 'set') {
        omitted.push({ id: phase.id, title: phase.title ?? phase.id, reason: `${phase.unless_set} is given (${values[phase.unless_set]})` });
        continue;
      }
    }
    const planned: PlannedStep[] = [];
    for (const [s, def] of phase.steps.entries()) {
      const at = ['phases', p, 'steps', s];
      const load = registry.get(def.kind);
      if (!load) {
        throw new BootstrapError('ERECIPE', `${recipe.locate([...at, 'kind'])}: step ${def.id}: unknown kind ${def.kind}`, {
          hint: `Known kinds: ${[...registry.keys()].sort().join(', ')}.`,
        });
      }
      const kind = await load();
      const root = roots[def.root];
      const realRoot = real[def.root];
      if (!root || !realRoot) {
        throw new BootstrapError('ERECIPE', `${recipe.locate([...at, 'root'])}: step ${def.id}: unknown root ${def.root}`, {
          hint: `Roots of this recipe: ${Object.keys(roots).sort().join(', ')}.`,
        });
      }
      const { id, kind: _kind, root: _root, title, ...own } = def;
      // A step's `script` is the one step field a shell reads as written (kinds quote the words
      // they put into their own scripts, e.g. emerge's args).
      const rendered = renderDeep(own, (text, path) =>
        renderTemplate(text, values, `${recipe.locate([...at, ...path])} (step ${id})`, { shell: path.length === 1 && path[0] === 'script' }),
      );
      const parsed = kind.schema.safeParse(rendered);
      if (!parsed.success) throw schemaError(parsed.error.issues, recipe.locate, at);
      const stepPlan = await kind.plan(parsed.data, {
        recipeDir: recipe.dir,
        params: values,
        roots,
        root,
        stepId: id,
        preview: options.preview ?? false,
        render: (text, where) => renderTemplate(text, values, where),
      });
      const material: FingerprintMaterial = { kind: kind.name, root: { path: realRoot.path, shell: realRoot.shell, prelude: realRoot.prelude, env: realRoot.env }, detail: stepPlan.detail };
      const step: PlannedStep = {
        index: steps.length,
        id,
        phase: phase.id,
        title: title ?? id,
        kind,
        root,
        spec: parsed.data,
        plan: stepPlan,
        fingerprint: fingerprint(material),
        material,
        needsRoot: kind.needsRoot(parsed.data, root),
      };
      planned.push(step);
      steps.push(step);
    }
    phases.push({ id: phase.id, title: phase.title ?? phase.id, steps: planned });
  }
  return { recipe, params, roots, phases, steps, omitted };
}

function resolveRoots(recipe: LoadedRecipe, values: Record<string, string>): Record<string, Root> {
  const roots: Record<string, Root> = { host: HOST_ROOT };
  for (const [name, def] of Object.entries(recipe.file.roots)) {
    const where = (field: string) => `${recipe.locate(['roots', name, field])} (roots.${name}.${field})`;
    if (name === 'host') throw new BootstrapError('ERECIPE', `${where('path')}: the root name host is built in`);
    const given = renderTemplate(def.path, values, where('path'));
    if (!isAbsolute(given) && !given.startsWith('<')) {
      throw new BootstrapError('ERECIPE', `${where('path')}: root ${name} must be an absolute path, got ${given}`);
    }
    const path = given.startsWith('<') ? given : guardedRootPath(name, given, def.path, where('path'));
    roots[name] = {
      name,
      path,
      host: false,
      shell: def.shell.map((word) => renderTemplate(word, values, where('shell'))),
      prelude: renderTemplate(def.prelude, values, where('prelude'), { shell: true }),
      preflightPrelude: renderTemplate(def.preflight_prelude, values, where('preflight_prelude'), { shell: true }),
      env: Object.fromEntries(Object.entries(def.env).map(([k, v]) => [k, renderTemplate(v, values, where(`env.${k}`))])),
    };
  }
  return roots;
}

/**
 * The host path a root stands for, links followed; the host's `/` and its system directories
 * are refused whatever path leads there (the `host` root is the only way to run on the host,
 * and its steps never write through the kinds).
 */
function guardedRootPath(name: string, given: string, template: string, where: string): string {
  const resolved = resolveHostPath(given);
  const refused = systemDirectory(resolved);
  if (refused) {
    const via = template.includes('{{') ? ` (${template})` : '';
    throw new BootstrapError('EROOT', `${where}: root ${name} is ${given}${via}, which resolves to ${resolved}: ${refused}. Steps run in a root and write into it as root, so bootstrap refuses the host's / and its system directories as a root`, {
      hint: template.includes('{{target}}') ? 'Give --target the directory the recipe builds in (e.g. the live-bootstrap target/ folder), not a path that leads to the host itself.' : `Give root ${name} a directory of its own.`,
    });
  }
  return resolved;
}
