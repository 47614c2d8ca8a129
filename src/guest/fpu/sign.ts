/** Sign injection (fsgnj, fsgnjn, fsgnjx): bit operations only, NaN payloads kept. */
import { BOXED_HIGH, fpOut } from "./format.js";

export const enum SignMode {
  Copy,
  Negate,
  Xor,
}

/** The magnitude of a with a sign taken from b as `mode` says; no flags. */
export function signInject(double: boolean, aLo: number, aHi: number, bLo: number, bHi: number, mode: SignMode): void {
  const aSignWord = double ? aHi : aLo;
  const bSignWord = double ? bHi : bLo;
  const sign = mode === SignMode.Copy ? bSignWord : mode === SignMode.Negate ? ~bSignWord : aSignWord ^ bSignWord;
  const word = (aSignWord & 0x7fffffff) | (sign & 0x80000000);
  fpOut.lo = double ? aLo : word;
  fpOut.hi = double ? word : BOXED_HIGH;
}
