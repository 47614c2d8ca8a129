/** The address space: addresses, backends, page frames, regions and protections: `memspace/space`. */
export {
  PAGE_SHIFT,
  PAGE_SIZE_BYTES,
  MAX_ADDRESS,
  AddressError,
  formatAddress,
  formatBigAddress,
  toBigAddress,
  lowHalf,
  highHalf,
  type Address,
} from "../space/address.js";
export { BACKEND_KINDS, isBackendKind, type BackendKind, type BackendCounters, type MemoryAccess, type MemoryBackend } from "../space/backend.js";
export { createBackend, type BackendOptions } from "../space/create-backend.js";
export { NoopBackend } from "../space/noop-backend.js";
export { MapBackend } from "../space/map-backend.js";
export { PagedBackend } from "../space/paged-backend.js";
export { FramePool } from "../space/frame-pool.js";
export { ChunkedFrameStore, AllocatorFrameStore, type FrameStore } from "../space/frame-store.js";
export type { FrameSource } from "../space/frame-source.js";
export { AddressSpace, type AddressSpaceOptions, type AddressSpaceStats } from "../space/address-space.js";
export { HookStop, MemoryHooks, type HookKind, type HookCallback, type HookResult, type MemoryEvent, type MemoryHook, type MmioDevice } from "../space/memory-hooks.js";
export { HookedAccess } from "../space/hooked-access.js";
export type { FaultHandler, FaultVerdict } from "../space/guarded-backend.js";
export {
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  PROT_EXEC,
  PROT_RW,
  PROT_ALL,
  parseProtection,
  formatProtection,
  MemoryFault,
  type Protection,
  type AccessKind,
} from "../space/protection.js";
export type { Region, RegionInfo, RegionMap } from "../space/region-map.js";
export type { PageTable } from "../space/page-table.js";
export { TeeAccess } from "../space/tee-access.js";
