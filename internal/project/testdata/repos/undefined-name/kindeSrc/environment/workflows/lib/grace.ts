export function graceHours(): number {
  return Number(hours ?? 0);
}
