const reserved = new Set(["admin", "root"]);

export function isReserved(name: string): boolean {
  let n = name;
  n ||= "";
  return reserved.has(n.toLowerCase());
}
