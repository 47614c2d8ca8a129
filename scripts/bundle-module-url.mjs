// Injected into the bundled CLI (scripts/bundle-cli.mjs): the bundle's own URL, which stands
// in for import.meta.url, as CommonJS has no import.meta.
import { pathToFileURL } from "node:url";
export const __memspaceBundleUrl = pathToFileURL(__filename).href;
