/** Linux errno values (asm-generic numbering, which RISC-V uses), as system calls return them negated. */
export const EPERM = 1n;
export const ENOENT = 2n;
export const ESRCH = 3n;
export const EINTR = 4n;
export const EIO = 5n;
export const EBADF = 9n;
export const EAGAIN = 11n;
export const ENOMEM = 12n;
export const EACCES = 13n;
export const EFAULT = 14n;
export const EBUSY = 16n;
export const EEXIST = 17n;
export const EXDEV = 18n;
export const ENODEV = 19n;
export const ENOTDIR = 20n;
export const EISDIR = 21n;
export const EINVAL = 22n;
export const EMFILE = 24n;
export const ENOTTY = 25n;
export const ESPIPE = 29n;
export const EROFS = 30n;
export const EPIPE = 32n;
export const ERANGE = 34n;
export const ENAMETOOLONG = 36n;
export const ENOSYS = 38n;
export const ENOTEMPTY = 39n;
export const ELOOP = 40n;
export const ETIMEDOUT = 110n;

export const EOVERFLOW = 75n;

const BY_NAME: Record<string, bigint> = {
  EPERM, ENOENT, EINTR, EIO, EBADF, EAGAIN, ENOMEM, EACCES, EFAULT, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR,
  EINVAL, EMFILE, ENOTTY, ESPIPE, EROFS, EPIPE, ERANGE, ENAMETOOLONG, ENOSYS, ENOTEMPTY, ELOOP, EOVERFLOW,
  ENOSPC: 28n, EFBIG: 27n, EMLINK: 31n, ENFILE: 23n,
};

/**
 * The negated errno of a failed host file-system call, by Node's error `code` ("ENOENT"): by
 * name, so a host whose numbers differ from Linux's still gives the guest Linux's. A host
 * error without a code is an emulator bug and is rethrown; an unlisted code becomes EIO.
 */
export function hostErrno(error: unknown): bigint {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) throw error;
  return -(BY_NAME[code] ?? EIO);
}
