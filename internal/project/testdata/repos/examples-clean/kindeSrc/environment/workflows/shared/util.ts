export enum Level { Info = "info", Warn = "warn" }

export namespace Limits { export const max = 10; }

export class Registry {
  #items: string[] = [];
  static readonly kind = "registry";
  constructor(private level: Level) {}
  get size(): number { return this.#items.length; }
  add(item: string | undefined, ...more: string[]): this {
    if (item && this.#items.length < Limits.max) this.#items.push(item, ...more);
    return this;
  }
}

export const pick = <T extends Record<string, string>>(o: T, key: keyof T): string | undefined => {
  const { [key]: value, ...others } = o;
  void others;
  return value;
};

export function retry(fn: () => void, times = 3): void {
  let attempt = 0;
  while (attempt++ < times) {
    try { return fn(); } catch (err: unknown) { if (attempt === times) throw err; }
  }
}

export function* counter(): Generator<number> { let i = 0; while (true) yield i++; }

export const label = function named(n: number): string { return n > 0 ? named(n - 1) + "." : ""; };
