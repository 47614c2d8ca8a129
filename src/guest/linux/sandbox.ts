import { lstatSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { EACCES, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, hostErrno } from "./errno.js";

/** Linux's MAXSYMLINKS: more links than this in one lookup is ELOOP. */
const MAX_SYMLINK_HOPS = 40;
const NAME_MAX_BYTES = 255;

/** A path looked up in the sandbox. */
export interface ResolvedPath {
  /** On the host: the sandbox's real root joined with `guestPath`. */
  hostPath: string;
  /** In the guest's view, absolute ("/" is the sandbox's root). */
  guestPath: string;
  /** Whether it exists (a missing last component may be created); its lstat kind if it does. */
  exists: boolean;
  isDirectory: boolean;
  isRegularFile: boolean;
  isSymbolicLink: boolean;
}

/**
 * A host directory the guest sees as its whole file system, with "/" at the directory. A path
 * resolves one component at a time with lstat, never through the host's own lookup: ".." at
 * the root stays at the root (as in a chroot), and a symbolic link is followed only if its
 * target stays inside (an absolute target, or one climbing above the root, is EACCES), at most
 * 40 links a lookup (ELOOP). Files open with O_NOFOLLOW and are checked once more after
 * opening (openChecked), so nothing the guest names reaches a host file outside the directory.
 */
export class Sandbox {
  /** The directory's real path (no symlinks): host paths are built from it. */
  readonly root: string;

  constructor(
    directory: string,
    /** Whether the guest may create, change, rename and remove files (else EROFS). */
    readonly writable: boolean,
  ) {
    this.root = realpathSync(directory);
    if (!lstatSync(this.root).isDirectory()) throw new Error(`sandbox ${directory} is not a directory`);
  }

  /**
   * Resolves `path` (relative ones from the guest directory `base`). A final symbolic link is
   * followed only with `followLast`; a missing final component is no error (`exists` false).
   */
  resolve(base: string, path: string, followLast: boolean): ResolvedPath | bigint {
    if (path.length === 0) return -ENOENT;
    const stack = path.startsWith("/") ? [] : base.split("/").filter((part) => part.length > 0);
    // Components still to walk; `fromLink` marks those a symbolic link's target supplied.
    const pending = toComponents(path, false);
    let hops = 0;
    while (pending.length > 0) {
      const { name, fromLink } = pending.shift() as Component;
      const last = pending.length === 0;
      if (name === ".") continue;
      if (name === "..") {
        if (stack.length > 0) stack.pop();
        else if (fromLink) return -EACCES;
        continue;
      }
      if (Buffer.byteLength(name) > NAME_MAX_BYTES) return -ENAMETOOLONG;
      const hostPath = join(this.root, ...stack, name);
      let stats;
      try {
        stats = lstatSync(hostPath, { throwIfNoEntry: false });
      } catch (error) {
        return hostErrno(error);
      }
      if (stats === undefined) {
        if (!last) return -ENOENT;
        stack.push(name);
        return this.result(stack, false, false, false, false);
      }
      if (stats.isSymbolicLink() && (!last || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) return -ELOOP;
        const target = readlinkSync(hostPath);
        if (target.startsWith("/")) return -EACCES;
        pending.unshift(...toComponents(target, true));
        continue;
      }
      if (!last && !stats.isDirectory()) return -ENOTDIR;
      stack.push(name);
      if (last) return this.result(stack, true, stats.isDirectory(), stats.isFile(), stats.isSymbolicLink());
    }
    // Only "." and ".." (or a link to them) were left: a directory.
    return this.result(stack, true, true, false, false);
  }

  /** Whether a host path (a real one, from /proc/self/fd) lies in the sandbox. */
  contains(hostPath: string): boolean {
    return hostPath === this.root || hostPath.startsWith(this.root.endsWith("/") ? this.root : this.root + "/");
  }

  private result(stack: string[], exists: boolean, isDirectory: boolean, isRegularFile: boolean, isSymbolicLink: boolean): ResolvedPath {
    return { hostPath: join(this.root, ...stack), guestPath: "/" + stack.join("/"), exists, isDirectory, isRegularFile, isSymbolicLink };
  }
}

interface Component {
  name: string;
  fromLink: boolean;
}

function toComponents(path: string, fromLink: boolean): Component[] {
  return path
    .split("/")
    .filter((name) => name.length > 0)
    .map((name) => ({ name, fromLink }));
}
