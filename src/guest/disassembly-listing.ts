/**
 * A program's disassembly, as `objdump -d` lays it out: each executable section, each
 * function's label, and a line per instruction (address, bits, text). Mapping symbols
 * (`$d`, `$x`) mark data inside code, shown as `.2byte` or `.4byte` rather than decoded.
 */
import { dataText, disassemble, instructionLength, type DisassemblyOptions } from "./disassembler.js";
import { parseElf } from "./elf.js";
import { readSections, readSymbols, SHF_EXECINSTR, SHT_PROGBITS, STT_FUNC, type ElfSection } from "./elf-sections.js";

/**
 * F and D as the file's arch attribute (Tag_RISCV_arch in .riscv.attributes, such as
 * "rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0") names them; both without one.
 */
function extensionsOf(bytes: Uint8Array, sections: ElfSection[]): DisassemblyOptions {
  const section = sections.find((candidate) => candidate.name === ".riscv.attributes");
  const text = section === undefined ? "" : new TextDecoder("latin1").decode(bytes.subarray(section.fileOffset, section.fileOffset + section.sizeBytes));
  const arch = /rv(?:32|64)[a-z0-9_]*/.exec(text)?.[0];
  if (arch === undefined) return {};
  const [base, ...rest] = arch.slice(4).split("_");
  const letters = new Set(base.replace(/\d+p\d+/g, "").split(""));
  if (letters.has("g")) for (const letter of "imafd") letters.add(letter);
  for (const part of rest) if (/^[a-z]\d/.test(part)) letters.add(part[0]);
  return { float: letters.has("f"), double: letters.has("d") };
}

/** One line of a listing. */
export type ListingLine =
  | { kind: "section"; name: string }
  | { kind: "label"; address: bigint; name: string }
  | { kind: "instruction"; address: bigint; bits: number; lengthBytes: number; text: string; data: boolean };

/** The lines of `bytes`' (an ELF file named `file`) executable sections, in address order. */
export function* disassemblyListing(bytes: Uint8Array, file: string): Generator<ListingLine> {
  parseElf(bytes, file); // a file that is not a RISC-V executable gets its GuestLoadError
  const sections = readSections(bytes);
  const symbols = readSymbols(bytes);
  const options = extensionsOf(bytes, sections);
  for (let index = 0; index < sections.length; index++) {
    const section = sections[index];
    if (section.type !== SHT_PROGBITS || (section.flags & SHF_EXECINSTR) === 0n || section.sizeBytes === 0) continue;
    yield { kind: "section", name: section.name };
    const inSection = symbols.filter((symbol) => symbol.sectionIndex === index);
    const labels = new Map<bigint, string>();
    for (const symbol of inSection) if (symbol.type === STT_FUNC && !labels.has(symbol.value)) labels.set(symbol.value, symbol.name);
    // Mapping symbols: where code ($x) and data ($d) start.
    const mapping = inSection.filter((symbol) => /^\$[xd]/.test(symbol.name)).sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    let next = 0;
    let data = false;
    const view = new DataView(bytes.buffer, bytes.byteOffset + section.fileOffset, section.sizeBytes);
    for (let offset = 0; offset < section.sizeBytes; ) {
      const address = section.address + BigInt(offset);
      while (next < mapping.length && mapping[next].value <= address) data = mapping[next++].name.startsWith("$d");
      const label = labels.get(address);
      if (label !== undefined) yield { kind: "label", address, name: label };
      const left = section.sizeBytes - offset;
      const nextBoundary = next < mapping.length ? Number(mapping[next].value - address) : left;
      if (data) {
        const size = Math.min(nextBoundary, left) >= 4 ? 4 : 2 <= Math.min(nextBoundary, left) ? 2 : 1;
        const bits = size === 4 ? view.getUint32(offset, true) : size === 2 ? view.getUint16(offset, true) : view.getUint8(offset);
        yield { kind: "instruction", address, bits, lengthBytes: size, text: dataText(bytes.subarray(section.fileOffset + offset, section.fileOffset + offset + size)), data: true };
        offset += size;
        continue;
      }
      if (left < 2) break;
      const parcel = view.getUint16(offset, true);
      const length = instructionLength(parcel);
      if (length > 4) {
        // A 48-bit or longer encoding, which no extension here has: data, as objdump shows it.
        const taken = Math.min(length, left);
        const text = dataText(bytes.subarray(section.fileOffset + offset, section.fileOffset + offset + taken));
        yield { kind: "instruction", address, bits: parcel, lengthBytes: taken, text, data: true };
        offset += taken;
        continue;
      }
      const bits = length === 4 && left >= 4 ? view.getUint32(offset, true) : parcel;
      const { text, lengthBytes } = disassemble(bits, address, options);
      yield { kind: "instruction", address, bits: bits >>> 0, lengthBytes, text, data: text.startsWith(".") };
      offset += lengthBytes;
    }
  }
}
