/** Command-line helpers shared by the benchmarks. */

/** A comma list of names from `known` (e.g. `--workloads larson,tiny-churn`); an unknown one is an error listing them. */
export function knownNames<T extends string>(option: string, text: string, known: readonly T[]): T[] {
  return text.split(",").map((name) => {
    if (!(known as readonly string[]).includes(name)) throw new Error(`--${option}: unknown name ${name} (known: ${known.join(", ")})`);
    return name as T;
  });
}
