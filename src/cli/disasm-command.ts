import { readFileSync } from "node:fs";
import { disassemblyListing } from "../guest/disassembly-listing.js";
import { GuestLoadError } from "../guest/elf.js";
import { EXIT_FAILURE } from "./exit-codes.js";

/** Lines written at a time (a listing of a large program runs to millions). */
const FLUSH_LINES = 4096;

/** `memspace disasm PROG`: its executable sections as objdump -d shows them. */
export function runDisasmCommand(program: string): void {
  let lines: string[] = [];
  try {
    for (const line of disassemblyListing(readFileSync(program), program)) {
      if (line.kind === "section") lines.push("", `Disassembly of section ${line.name}:`);
      else if (line.kind === "label") lines.push("", `${line.address.toString(16).padStart(16, "0")} <${line.name}>:`);
      else lines.push(`${line.address.toString(16).padStart(8)}:\t${line.bits.toString(16).padStart(line.lengthBytes * 2, "0")}\t${line.text}`);
      if (lines.length >= FLUSH_LINES) {
        process.stdout.write(lines.join("\n") + "\n");
        lines = [];
      }
    }
  } catch (error) {
    if (!(error instanceof GuestLoadError)) throw error;
    process.stderr.write(`memspace: ${error.message}\n`);
    process.exitCode = EXIT_FAILURE;
    return;
  }
  process.stdout.write(lines.join("\n") + "\n");
}
