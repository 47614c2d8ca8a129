import type { BackendKind, MemoryBackend } from "./backend.js";
import { MapBackend } from "./map-backend.js";
import { NoopBackend } from "./noop-backend.js";
import { PagedBackend } from "./paged-backend.js";

export function createBackend(kind: BackendKind): MemoryBackend {
  switch (kind) {
    case "noop":
      return new NoopBackend();
    case "map":
      return new MapBackend();
    case "paged":
      return new PagedBackend();
  }
}
