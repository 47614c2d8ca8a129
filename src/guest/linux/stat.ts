import type { BigIntStats } from "node:fs";
import { PAGE_SIZE_BYTES } from "../../space/address.js";

/** What fstat, newfstatat and statx report about a file, whatever the guest's struct. */
export interface FileStatus {
  device: bigint;
  inode: bigint;
  /** File type and permission bits (S_IFREG | 0644, ...). */
  mode: number;
  links: bigint;
  uid: number;
  gid: number;
  rdev: bigint;
  sizeBytes: bigint;
  blockSizeBytes: number;
  /** 512-byte blocks. */
  blocks: bigint;
  accessNs: bigint;
  modifyNs: bigint;
  changeNs: bigint;
  birthNs: bigint;
}

export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
/** The asm-generic struct stat RISC-V uses. */
const STAT_BYTES = 128;
const STATX_BYTES = 256;
/** STATX_BASIC_STATS | STATX_BTIME: every field statx fills here. */
const STATX_FILLED_MASK = 0xfff;
const NANOS_PER_SECOND = 1_000_000_000n;

/** A host file's status as the guest sees it (the host's own numbers). */
export function fromHostStats(stats: BigIntStats): FileStatus {
  return {
    device: stats.dev,
    inode: stats.ino,
    mode: Number(stats.mode),
    links: stats.nlink,
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    rdev: stats.rdev,
    sizeBytes: stats.size,
    blockSizeBytes: Number(stats.blksize),
    blocks: stats.blocks,
    accessNs: stats.atimeNs,
    modifyNs: stats.mtimeNs,
    changeNs: stats.ctimeNs,
    birthNs: stats.birthtimeNs,
  };
}

/** A device or pipe with no host file behind it: type and permissions, the rest zero. */
export function syntheticStatus(mode: number, inode: bigint): FileStatus {
  return {
    device: 0n, inode, mode, links: 1n, uid: 0, gid: 0, rdev: 0n, sizeBytes: 0n,
    blockSizeBytes: PAGE_SIZE_BYTES, blocks: 0n, accessNs: 0n, modifyNs: 0n, changeNs: 0n, birthNs: 0n,
  };
}

/** struct stat (asm-generic: dev, ino, mode, nlink, uid, gid, rdev, pad, size, blksize, pad, blocks, times). */
export function encodeStat(status: FileStatus): Uint8Array {
  const bytes = new Uint8Array(STAT_BYTES);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, status.device, true);
  view.setBigUint64(8, status.inode, true);
  view.setUint32(16, status.mode, true);
  view.setUint32(20, Number(status.links), true);
  view.setUint32(24, status.uid, true);
  view.setUint32(28, status.gid, true);
  view.setBigUint64(32, status.rdev, true);
  view.setBigInt64(48, status.sizeBytes, true);
  view.setInt32(56, status.blockSizeBytes, true);
  view.setBigInt64(64, status.blocks, true);
  [status.accessNs, status.modifyNs, status.changeNs].forEach((ns, index) => {
    view.setBigInt64(72 + index * 16, ns / NANOS_PER_SECOND, true);
    view.setBigUint64(80 + index * 16, ns % NANOS_PER_SECOND, true);
  });
  return bytes;
}

/** struct statx: the basic fields and the birth time, whatever mask was asked for (as Linux may). */
export function encodeStatx(status: FileStatus): Uint8Array {
  const bytes = new Uint8Array(STATX_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, STATX_FILLED_MASK, true);
  view.setUint32(4, status.blockSizeBytes, true);
  view.setUint32(16, Number(status.links), true);
  view.setUint32(20, status.uid, true);
  view.setUint32(24, status.gid, true);
  view.setUint16(28, status.mode, true);
  view.setBigUint64(32, status.inode, true);
  view.setBigUint64(40, status.sizeBytes, true);
  view.setBigUint64(48, status.blocks, true);
  // atime, btime, ctime, mtime: {i64 seconds, u32 nanoseconds, pad}.
  [status.accessNs, status.birthNs, status.changeNs, status.modifyNs].forEach((ns, index) => {
    view.setBigInt64(64 + index * 16, ns / NANOS_PER_SECOND, true);
    view.setUint32(72 + index * 16, Number(ns % NANOS_PER_SECOND), true);
  });
  view.setUint32(128, Number(status.rdev >> 8n) & 0xfff, true);
  view.setUint32(132, Number(status.rdev & 0xffn), true);
  view.setUint32(136, Number(status.device >> 8n) & 0xfff, true);
  view.setUint32(140, Number(status.device & 0xffn), true);
  return bytes;
}
