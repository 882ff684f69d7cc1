/**
 * The `/etc/portage/binrepos.conf` block a target needs to install from this binhost (seed 004,
 * "Adding the binhost to the target"). `fetchcommand` is only written when given: Portage
 * otherwise fetches packages with make.conf's FETCHCOMMAND (wget by default).
 */
export function binreposConf(options: { name: string; url: string; priority?: number; fetchcommand?: string }): string {
  const lines = [`[${options.name}]`, `sync-uri = ${options.url}`, `priority = ${options.priority ?? 10}`];
  if (options.fetchcommand) lines.push(`fetchcommand = ${options.fetchcommand}`);
  return `${lines.join('\n')}\n`;
}

/** A binrepos.conf section name: Portage's configparser takes any, but keep it one plain word. */
export function checkRepoName(name: string): string | undefined {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) ? undefined : `"${name}": use letters, digits, '.', '_' and '-'`;
}
