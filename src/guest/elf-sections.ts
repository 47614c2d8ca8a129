/**
 * An ELF64 file's section headers and symbol table, read leniently: a missing or malformed
 * table yields nothing (sections and symbols are a hint, for labels and the heap's bounds,
 * never a reason to refuse a file; parseElf checks what loading needs).
 */

const SHDR_BYTES = 64;
const SYM_BYTES = 24;
const SHN_UNDEF = 0;
/** Section types and flags that matter here. */
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
/** A section with no bytes in the file (.bss). */
const SHT_NOBITS = 8;
export const SHF_EXECINSTR = 4n;
/** Symbol types (the low nibble of st_info). */
export const STT_FUNC = 2;

export interface ElfSection {
  name: string;
  type: number;
  flags: bigint;
  address: bigint;
  fileOffset: number;
  sizeBytes: number;
  /** The section it refers to (a symbol table's string table). */
  link: number;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  sizeBytes: bigint;
  /** STT_* */
  type: number;
  /** The section it is defined in (0: undefined). */
  sectionIndex: number;
}

function cString(bytes: Uint8Array, at: number, decoder: TextDecoder): string {
  const end = bytes.indexOf(0, at);
  return decoder.decode(bytes.subarray(at, end < 0 ? bytes.length : end));
}

/** The section headers, with their names (none if the table is missing or runs past the file). */
export function readSections(bytes: Uint8Array): ElfSection[] {
  if (bytes.length < 64) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(view.getBigUint64(40, true));
  const shentsize = view.getUint16(58, true);
  const shnum = view.getUint16(60, true);
  const shstrndx = view.getUint16(62, true);
  if (shentsize !== SHDR_BYTES || shoff + shnum * SHDR_BYTES > bytes.length || shnum === 0) return [];
  const raw = Array.from({ length: shnum }, (_, index) => {
    const at = shoff + index * SHDR_BYTES;
    return {
      nameAt: view.getUint32(at, true),
      type: view.getUint32(at + 4, true),
      flags: view.getBigUint64(at + 8, true),
      address: view.getBigUint64(at + 16, true),
      fileOffset: Number(view.getBigUint64(at + 24, true)),
      sizeBytes: Number(view.getBigUint64(at + 32, true)),
      link: view.getUint32(at + 40, true),
    };
  });
  if (raw.some((section) => section.type !== SHT_NOBITS && section.fileOffset + section.sizeBytes > bytes.length)) return [];
  const names = shstrndx < shnum ? bytes.subarray(raw[shstrndx].fileOffset, raw[shstrndx].fileOffset + raw[shstrndx].sizeBytes) : new Uint8Array(0);
  const decoder = new TextDecoder();
  return raw.map(({ nameAt, ...section }) => ({ name: nameAt < names.length ? cString(names, nameAt, decoder) : "", ...section }));
}

/** The defined symbols of the file's .symtab (none without one). */
export function readSymbols(bytes: Uint8Array): ElfSymbol[] {
  const sections = readSections(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder();
  const symbols: ElfSymbol[] = [];
  for (const table of sections) {
    if (table.type !== SHT_SYMTAB) continue;
    const strings = sections[table.link];
    if (strings === undefined) continue;
    const names = bytes.subarray(strings.fileOffset, strings.fileOffset + strings.sizeBytes);
    for (let at = table.fileOffset; at + SYM_BYTES <= table.fileOffset + table.sizeBytes; at += SYM_BYTES) {
      const nameAt = view.getUint32(at, true);
      const sectionIndex = view.getUint16(at + 6, true);
      if (nameAt >= names.length || sectionIndex === SHN_UNDEF) continue;
      symbols.push({ name: cString(names, nameAt, decoder), value: view.getBigUint64(at + 8, true), sizeBytes: view.getBigUint64(at + 16, true), type: view.getUint8(at + 4) & 0xf, sectionIndex });
    }
  }
  return symbols;
}
