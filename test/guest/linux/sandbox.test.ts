import assert from "node:assert/strict";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Reg } from "../../../src/guest/assembler.js";
import { Hart } from "../../../src/guest/hart.js";
import { LinuxSyscalls, type GuestFileSystemOptions } from "../../../src/guest/syscalls.js";
import { AddressSpace } from "../../../src/space/address-space.js";
import { withTempDir } from "../../helpers.js";

const SYS = { openat: 56, read: 63, write: 64, close: 57, unlinkat: 35, mkdirat: 34, renameat2: 276, newfstatat: 79, readlinkat: 78, getdents64: 61, chdir: 49, getcwd: 17 };
const AT_FDCWD = -100n;
const O_WRONLY = 1n;
const O_CREAT = 0o100n;
const O_NOFOLLOW = 0o400000n;
const AT_REMOVEDIR = 0x200n;
const E = { ENOENT: -2n, EACCES: -13n, EROFS: -30n, ELOOP: -40n, EBADF: -9n, EEXIST: -17n, EISDIR: -21n, ENOTDIR: -20n };
const BUFFER = 0x10000n;
const PATHS = 0x20000n;

/** LinuxSyscalls over a small mapped space: `path` puts a string in guest memory, `call` makes a call. */
function sandboxHarness(fileSystem?: GuestFileSystemOptions) {
  const space = new AddressSpace();
  space.map(BUFFER, 0x20000, "rw-");
  const syscalls = new LinuxSyscalls(space, 0x100000n, { stdin: new Uint8Array(0), write: () => {} }, { fileSystem, executablePath: "/opt/guest" });
  const hart = new Hart(space.access, syscalls);
  let nextPath = PATHS;
  const path = (text: string): bigint => {
    const at = nextPath;
    const bytes = new TextEncoder().encode(text + "\0");
    space.write(at, bytes);
    nextPath += BigInt(bytes.length);
    return at;
  };
  const call = (number: number, ...args: bigint[]): bigint => {
    args.forEach((value, index) => hart.setRegister(Reg.a0 + index, value));
    hart.setRegister(Reg.a7, BigInt(number));
    syscalls.handle(hart);
    return BigInt.asIntN(64, hart.register(Reg.a0));
  };
  const open = (name: string, flags = 0n): bigint => call(SYS.openat, AT_FDCWD, path(name), flags, 0o644n);
  const readAll = (fd: bigint): string => {
    const count = call(SYS.read, fd, BUFFER, 4096n);
    assert.ok(count >= 0n, `read: ${count}`);
    return Buffer.from(space.read(BUFFER, Number(count))).toString("utf8");
  };
  return { space, call, path, open, readAll, close: () => syscalls.close() };
}

/** A sandbox folder with a file inside, a secret outside, and links pointing out of it. */
function layout(folder: string): { root: string; secret: string } {
  const root = join(folder, "root");
  const secret = join(folder, "secret.txt");
  writeFileSync(secret, "host secret\n");
  mkdirSync(join(root, "sub"), { recursive: true });
  writeFileSync(join(root, "inside.txt"), "inside\n");
  symlinkSync("/etc", join(root, "etc-link"));
  symlinkSync(secret, join(root, "absolute-link"));
  symlinkSync("../secret.txt", join(root, "climbing-link"));
  symlinkSync("../../secret.txt", join(root, "sub", "deep-link"));
  symlinkSync("inside.txt", join(root, "good-link"));
  symlinkSync("loop-b", join(root, "loop-a"));
  symlinkSync("loop-a", join(root, "loop-b"));
  return { root, secret };
}

describe("the file-system sandbox", () => {
  it("without --fs no path opens: the guest has stdin, stdout and stderr only", () => {
    const { open, call, path } = sandboxHarness();
    assert.equal(open("/etc/passwd"), E.ENOENT);
    assert.equal(open("input.txt"), E.ENOENT);
    assert.equal(call(SYS.readlinkat, AT_FDCWD, path("/proc/self/exe"), BUFFER, 64n), BigInt("/opt/guest".length));
  });

  it("reads files inside; .., absolute paths and links never reach a host file outside", () => {
    withTempDir((folder) => {
      const { root } = layout(folder);
      const guest = sandboxHarness({ root });
      assert.equal(guest.readAll(guest.open("inside.txt")), "inside\n");
      assert.equal(guest.readAll(guest.open("/sub/../inside.txt")), "inside\n");
      assert.equal(guest.readAll(guest.open("good-link")), "inside\n", "a link staying inside is followed");
      // ".." at the root stays at the root, as in a chroot: these name files inside, which do not exist.
      assert.equal(guest.open("../secret.txt"), E.ENOENT);
      assert.equal(guest.open("../../../../../../etc/passwd"), E.ENOENT);
      assert.equal(guest.open("/etc/passwd"), E.ENOENT);
      assert.equal(guest.open(join(folder, "secret.txt")), E.ENOENT, "a host absolute path is a guest path");
      assert.equal(guest.open("etc-link/passwd"), E.EACCES);
      assert.equal(guest.open("absolute-link"), E.EACCES);
      assert.equal(guest.open("climbing-link"), E.EACCES);
      assert.equal(guest.open("sub/deep-link"), E.EACCES);
      assert.equal(guest.open("loop-a"), E.ELOOP);
      assert.equal(guest.open("good-link", O_NOFOLLOW), E.ELOOP, "O_NOFOLLOW refuses a final link");
      guest.close();
    });
  });

  it("is read-only without --fs-write: writes, creation, rename and removal are EROFS", () => {
    withTempDir((folder) => {
      const { root } = layout(folder);
      const guest = sandboxHarness({ root });
      assert.equal(guest.open("inside.txt", O_WRONLY), E.EROFS);
      assert.equal(guest.open("new.txt", O_WRONLY | O_CREAT), E.EROFS);
      assert.equal(guest.call(SYS.unlinkat, AT_FDCWD, guest.path("inside.txt"), 0n), E.EROFS);
      assert.equal(guest.call(SYS.mkdirat, AT_FDCWD, guest.path("made"), 0o755n), E.EROFS);
      assert.equal(guest.call(SYS.renameat2, AT_FDCWD, guest.path("inside.txt"), AT_FDCWD, guest.path("moved.txt"), 0n), E.EROFS);
      assert.equal(readFileSync(join(root, "inside.txt"), "utf8"), "inside\n");
      assert.ok(!existsSync(join(root, "new.txt")) && !existsSync(join(root, "made")));
    });
  });

  it("with --fs-write, writes, renames and removals stay inside: escapes neither create nor remove host files", () => {
    withTempDir((folder) => {
      const { root, secret } = layout(folder);
      const guest = sandboxHarness({ root, writable: true });
      const fd = guest.open("/../../written.txt", O_WRONLY | O_CREAT);
      assert.ok(fd >= 3n);
      guest.space.write(BUFFER, new TextEncoder().encode("data"));
      assert.equal(guest.call(SYS.write, fd, BUFFER, 4n), 4n);
      assert.equal(guest.call(SYS.close, fd), 0n);
      assert.equal(readFileSync(join(root, "written.txt"), "utf8"), "data", "created inside, not above");
      assert.ok(!existsSync(join(folder, "written.txt")));
      assert.equal(guest.open("climbing-link", O_WRONLY | O_CREAT), E.EACCES, "no write through a link out");
      assert.equal(guest.call(SYS.renameat2, AT_FDCWD, guest.path("inside.txt"), AT_FDCWD, guest.path("../../moved.txt"), 0n), 0n);
      assert.ok(existsSync(join(root, "moved.txt")) && !existsSync(join(folder, "moved.txt")), "renamed inside");
      assert.equal(guest.call(SYS.renameat2, AT_FDCWD, guest.path("etc-link/passwd"), AT_FDCWD, guest.path("stolen"), 0n), E.EACCES);
      assert.equal(guest.call(SYS.unlinkat, AT_FDCWD, guest.path("../secret.txt"), 0n), E.ENOENT);
      assert.equal(guest.call(SYS.unlinkat, AT_FDCWD, guest.path("sub/deep-link/x"), 0n), E.EACCES);
      // Removing a link removes the link, never its target.
      assert.equal(guest.call(SYS.unlinkat, AT_FDCWD, guest.path("climbing-link"), 0n), 0n);
      assert.equal(readFileSync(secret, "utf8"), "host secret\n");
      assert.equal(guest.call(SYS.unlinkat, AT_FDCWD, guest.path("/"), AT_REMOVEDIR), -22n, "the root cannot be removed");
      assert.equal(guest.call(SYS.mkdirat, AT_FDCWD, guest.path("sub"), 0o755n), E.EEXIST);
      guest.close();
    });
  });

  it("directories: getdents64 lists names, chdir and getcwd stay in the guest's view", () => {
    withTempDir((folder) => {
      const { root } = layout(folder);
      const guest = sandboxHarness({ root });
      const fd = guest.open("sub");
      assert.ok(fd >= 3n);
      const bytes = guest.call(SYS.getdents64, fd, BUFFER, 4096n);
      assert.ok(bytes > 0n);
      const listing = Buffer.from(guest.space.read(BUFFER, Number(bytes))).toString("latin1");
      for (const name of [".", "..", "deep-link"]) assert.ok(listing.includes(name + "\0"), name);
      assert.equal(guest.call(SYS.getdents64, fd, BUFFER, 4096n), 0n, "then the end");
      assert.equal(guest.call(SYS.read, fd, BUFFER, 16n), E.EISDIR);
      assert.equal(guest.call(SYS.chdir, guest.path("sub/..//sub")), 0n);
      assert.equal(guest.call(SYS.getcwd, BUFFER, 64n), 5n);
      assert.equal(Buffer.from(guest.space.read(BUFFER, 4)).toString(), "/sub");
      assert.equal(guest.call(SYS.chdir, guest.path("../inside.txt")), E.ENOTDIR);
      guest.close();
    });
  });
});
