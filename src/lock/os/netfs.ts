import { thisOs } from './seam';

export interface FsKind {
  readonly network: boolean;
  /** Human name of the file system type when it is a network one, e.g. "NFS". */
  readonly name: string;
}

/** Classifies the file system holding `dir`; TOOLCHAIN_LOCK_FS=network|local overrides detection. */
export function fileSystemKind(dir: string, env: NodeJS.ProcessEnv = process.env): FsKind {
  const forced = env.TOOLCHAIN_LOCK_FS;
  if (forced === 'network') return { network: true, name: 'network (TOOLCHAIN_LOCK_FS)' };
  if (forced === 'local') return { network: false, name: 'local (TOOLCHAIN_LOCK_FS)' };
  const name = thisOs.networkFileSystem(dir);
  return name ? { network: true, name } : { network: false, name: 'local' };
}

const warned = new Set<string>();

/** Warns once per process and directory that locks there are polled and may hang. */
export function warnNetworkFsOnce(
  dir: string,
  kind: FsKind,
  warn: (message: string) => void,
): void {
  if (!kind.network || warned.has(dir) || process.env.TOOLCHAIN_LOCK_NO_NETWORK_FS_WARNING) return;
  warned.add(dir);
  warn(
    `The lock directory ${dir} is on a network file system (${kind.name}). Locks still work across ` +
      'machines if the server supports flock, but changes are noticed by polling (slower) and a broken ' +
      'lock service is reported after a bounded wait. If every user of the toolchain is on this machine, ' +
      'set TOOLCHAIN_LOCK_DIR to a local directory. Silence this with TOOLCHAIN_LOCK_NO_NETWORK_FS_WARNING=1.',
  );
}
