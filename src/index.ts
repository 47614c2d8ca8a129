/**
 * The public API, named item by item in one module per area (src/api/, also importable as
 * `memspace/space`, `memspace/trace`, `memspace/guest`, `memspace/alloc`, `memspace/persist`).
 * No internals (test coordination, slow paths, chunk sizes) and no `const enum` reach a
 * consumer, whose isolatedModules build could not inline it. etc/memspace.api.md freezes the
 * surface: a test fails when it changes without the report (npm run api:update).
 */
export * from "./api/space.js";
export * from "./api/trace.js";
export * from "./api/guest.js";
export * from "./api/alloc.js";
export * from "./api/persist.js";
