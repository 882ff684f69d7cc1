/** The exact command that continues this run. */
export function resumeCommand(work: string): string {
  return `${process.env.SUDO_USER ? 'sudo ' : ''}bootstrap resume --work ${work}`;
}
