// Syntax goja cannot parse unless esbuild lowers it.
import { WorkflowTrigger } from "@kinde/infrastructure";
import { Counter } from "./counter";

export const workflowSettings = { id: "features", trigger: WorkflowTrigger.UserTokenGeneration };

async function* numbers(n: number) {
  for (let i = 1; i <= n; i++) {
    yield await Promise.resolve(i);
  }
}

export default async function (event: { a?: number; b?: string | null; c: boolean }) {
  let a = event.a;
  a ||= 10;
  let b = event.b;
  b ??= "dflt";
  let c = event.c;
  c &&= false;
  let sum = 0;
  for await (const n of numbers(4)) {
    sum += n;
  }
  const counter = new Counter();
  counter.add(sum);
  return { a, b, c, sum, count: counter.total, trigger: workflowSettings.trigger, big: 1_000n.toString() };
}
