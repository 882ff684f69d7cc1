/**
 * default/linux/packages.build of the real Gentoo profiles (../shared/fixtures/gentoo-profiles),
 * written by hand from the file: the only list on the default/linux/amd64/23.0 chain.
 */
export const AMD64_PACKAGES_BUILD = [
  'app-admin/eselect', 'app-arch/bzip2', 'app-arch/gzip', 'app-arch/xz-utils', 'app-arch/tar', 'app-shells/bash:0',
  'dev-build/autoconf', 'dev-build/automake', 'dev-build/libtool', 'dev-build/make', 'net-misc/rsync', 'net-misc/wget',
  'sys-apps/baselayout', 'sys-apps/coreutils', 'sys-apps/diffutils', 'sys-apps/file', 'sys-apps/findutils', 'sys-apps/gawk',
  'sys-apps/grep', 'sys-apps/less', 'sys-apps/net-tools', 'sys-apps/portage', 'sys-apps/sed', 'sys-apps/shadow',
  'sys-devel/binutils', 'sys-devel/bison', 'sys-devel/flex', 'sys-devel/gcc', 'sys-devel/gettext', 'sys-devel/gnuconfig',
  'sys-devel/patch', 'virtual/editor', 'virtual/libc', 'virtual/os-headers', 'virtual/pkgconfig',
];
