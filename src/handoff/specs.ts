import type { ParsedProfile } from './names.js';
import { renderSpec, type SpecEntry } from './spec-file.js';

/** The Catalyst runs of a hand-off, in the order they must happen. */
export const STAGES = [
  { id: 'stage1', file: 'stage1.spec' },
  { id: 'stage3', file: 'stage3.spec' },
  { id: 'installcd-stage1', file: 'installcd-stage1.spec' },
  { id: 'installcd-stage2-minimal', file: 'installcd-stage2-minimal.spec' },
] as const;

export type StageId = (typeof STAGES)[number]['id'];

export interface SpecSettings {
  subarch: string;
  relType: string;
  profile: ParsedProfile;
  timestamp: string;
  treeish: string;
  /** `source_subpath` of the seed, e.g. `default/stage3-bootstrap`. */
  seedSubpath: string;
  /** What releng's specs call `@REPO_DIR@`: our releng-shaped folder with the guide's edits. */
  repoDir: string;
}

/** The install CD is built on the no-multilib variant of the same profile version, as releng does. */
function isoProfile(p: ParsedProfile): string {
  return `default/linux/${p.arch}/${p.version}/no-multilib`;
}

/**
 * releng's version stamps name the profile flavour (`systemd-…`, `desktop-systemd-…`); the
 * plain 23.0 profile is OpenRC. The stamp ends up in the stage file names.
 */
function stageVersionStamp(s: SpecSettings): string {
  const flavour = s.profile.flavour.length > 0 ? s.profile.flavour.join('-') : 'openrc';
  return `${flavour}-${s.timestamp}`;
}

/** Where Catalyst writes a target's result, relative to `$storedir/builds`, without suffix. */
function outputSubpath(s: SpecSettings, target: string, versionStamp: string): string {
  return `${s.relType}/${target}-${s.subarch}-${versionStamp}`;
}

function header(s: SpecSettings, target: string, versionStamp: string, profile: string, sourceSubpath: string): SpecEntry[] {
  return [
    { key: 'subarch', value: s.subarch },
    { key: 'target', value: target },
    { key: 'version_stamp', value: versionStamp },
    { key: 'rel_type', value: s.relType },
    { key: 'profile', value: profile },
    { key: 'snapshot_treeish', value: s.treeish },
    { key: 'source_subpath', value: sourceSubpath },
    { key: 'compression_mode', value: 'pixz' },
  ];
}

const LIVECD_USE = ['compile-locales', 'fbcon', 'livecd', 'socks5', 'unicode', 'xml'];

const LIVECD_PACKAGES = [
  'app-accessibility/brltty', 'app-accessibility/espeakup', 'app-admin/pwgen', 'app-arch/unzip',
  'app-crypt/gnupg', 'app-editors/nano', 'app-misc/livecd-tools', 'app-misc/screen', 'app-misc/tmux',
  'app-portage/mirrorselect', 'net-misc/dhcpcd', 'net-misc/openssh', 'net-misc/rsync', 'net-wireless/iw',
  'net-wireless/wpa_supplicant', 'sys-apps/busybox', 'sys-apps/iproute2', 'sys-apps/pciutils',
  'sys-apps/usbutils', 'sys-block/parted', 'sys-fs/btrfs-progs', 'sys-fs/cryptsetup', 'sys-fs/dosfstools',
  'sys-fs/e2fsprogs', 'sys-fs/lvm2', 'sys-fs/mdadm', 'sys-fs/xfsprogs', 'sys-kernel/linux-firmware',
  'www-client/links',
];

/** releng's minimal CD unmerge list, with Rust built from source instead of rust-bin. */
const LIVECD_UNMERGE = [
  'app-admin/eselect', 'app-admin/perl-cleaner', 'app-arch/cpio', 'dev-build/autoconf', 'dev-build/automake',
  'dev-build/libtool', 'dev-build/make', 'dev-lang/rust', 'dev-libs/gmp', 'dev-libs/mpfr', 'dev-util/pkgconf',
  'sys-apps/sandbox', 'sys-apps/texinfo', 'sys-devel/binutils', 'sys-devel/binutils-config', 'sys-devel/bison',
  'sys-devel/flex', 'sys-devel/gcc', 'sys-devel/gcc-config', 'sys-devel/gettext', 'sys-devel/gnuconfig',
  'sys-devel/m4', 'sys-devel/patch', 'sys-kernel/linux-headers',
];

const LIVECD_EMPTY = [
  '/boot', '/etc/cron.daily', '/etc/cron.hourly', '/etc/cron.monthly', '/etc/cron.weekly', '/etc/logrotate.d',
  '/etc/skel', '/root/.ccache', '/tmp', '/usr/include', '/usr/lib/portage', '/usr/lib64/portage', '/usr/local',
  '/usr/share/doc', '/usr/share/info', '/usr/share/man', '/usr/src', '/var/cache', '/var/empty',
  '/var/lib/portage', '/var/log', '/var/spool', '/var/tmp',
];

const LIVECD_RM = [
  '/etc/*-', '/etc/*.old', '/etc/resolv.conf', '/root/.bash_history', '/usr/lib*/*.a', '/usr/lib*/*.la',
  '/usr/bin/emerge', '/usr/bin/ebuild', '/usr/bin/egencache', '/usr/bin/emaint', '/usr/bin/portageq',
];

/** File name → spec text, for the four Catalyst runs. Throws before anything is written. */
export function buildSpecs(s: SpecSettings): Record<string, string> {
  const stamp = stageVersionStamp(s);
  const stagesConf = `${s.repoDir}/releases/portage/stages`;
  const isosConf = `${s.repoDir}/releases/portage/isos`;
  const stage1Out = outputSubpath(s, 'stage1', stamp);
  const livecd1Out = outputSubpath(s, 'livecd-stage1', s.timestamp);

  const stage1: SpecEntry[] = [
    ...header(s, 'stage1', stamp, s.profile.path, s.seedSubpath),
    { key: 'update_seed', value: 'yes' },
    { key: 'update_seed_command', value: ['--update', '--deep', '--newuse', '@world'], inline: true },
    { key: 'portage_confdir', value: stagesConf, comment: 'rust-bin masked and dev-lang/rust in packages.build: Rust is built from source' },
    { key: 'portage_prefix', value: 'releng' },
  ];
  const stage3: SpecEntry[] = [
    ...header(s, 'stage3', stamp, s.profile.path, stage1Out),
    { key: 'portage_confdir', value: stagesConf },
    { key: 'portage_prefix', value: 'releng' },
  ];
  const installcd1: SpecEntry[] = [
    ...header(s, 'livecd-stage1', s.timestamp, isoProfile(s.profile), s.seedSubpath),
    { key: 'portage_confdir', value: isosConf },
    { key: 'livecd/use', value: LIVECD_USE, gap: true },
    { key: 'livecd/packages', value: LIVECD_PACKAGES, gap: true },
  ];
  const installcd2: SpecEntry[] = [
    ...header(s, 'livecd-stage2', s.timestamp, isoProfile(s.profile), livecd1Out),
    { key: 'portage_confdir', value: isosConf },
    { key: 'livecd/bootargs', value: 'dokeymap', gap: true },
    { key: 'livecd/fstype', value: 'squashfs' },
    { key: 'livecd/iso', value: `install-${s.subarch}-minimal-${s.timestamp}.iso` },
    { key: 'livecd/type', value: 'gentoo-release-minimal' },
    { key: 'livecd/volid', value: `Gentoo-${s.subarch}-${s.timestamp}` },
    { key: 'boot/kernel', value: 'gentoo', gap: true, comment: 'the distribution kernel, built from source; releng\'s second genkernel kernel needs its kconfig' },
    { key: 'boot/kernel/gentoo/distkernel', value: 'yes' },
    {
      key: 'boot/kernel/gentoo/dracut_args',
      value: ['--xz', '--no-hostonly', '-a', 'dmsquash-live', '-a', 'mdraid', '-o', 'btrfs', '-o', 'crypt', '-o', 'i18n', '-o', 'usrmount', '-o', 'lunmask', '-o', 'qemu', '-o', 'qemu-net', '-o', 'nvdimm', '-o', 'multipath', '-I', 'busybox'],
      inline: true,
    },
    { key: 'livecd/unmerge', value: LIVECD_UNMERGE, gap: true, comment: 'dev-lang/rust, not rust-bin: the CD is built with Rust from source' },
    { key: 'livecd/empty', value: LIVECD_EMPTY, gap: true },
    { key: 'livecd/rm', value: LIVECD_RM, gap: true },
  ];
  const specs: Record<string, SpecEntry[]> = {
    'stage1.spec': stage1,
    'stage3.spec': stage3,
    'installcd-stage1.spec': installcd1,
    'installcd-stage2-minimal.spec': installcd2,
  };
  return Object.fromEntries(Object.entries(specs).map(([file, entries]) => [file, renderSpec(file, entries)]));
}
