// Shapes the public examples use: typed events, type-only imports, type
// predicates, generics, casts, Map/reduce, optional chaining, labels.
import {
  onPostAuthenticationEvent,
  WorkflowSettings,
  WorkflowTrigger,
  createKindeAPI,
} from "@kinde/infrastructure";
import type { Attribute } from "./shared/types";
import { Level, pick, Registry } from "./shared/util";

export const workflowSettings: WorkflowSettings = {
  id: "samlSync",
  name: "SamlAttributesSync",
  failurePolicy: { action: "stop" },
  trigger: WorkflowTrigger.PostAuthentication,
  bindings: { "kinde.env": {}, "kinde.fetch": {}, url: {} },
};

type Statement = { attributes?: Attribute[] };
interface Config { samlName: string; kindeKey: string; multiValue: boolean }

const syncConfig: Config[] = [{ samlName: "groups", kindeKey: "groups", multiValue: true }];

export default async function handlePostAuth(event: onPostAuthenticationEvent) {
  const statements = event.context?.auth?.provider?.data?.assertion?.attributeStatements as Statement[] | undefined;
  if (!statements?.length) return;
  const byName = statements
    .flatMap((s) => s.attributes ?? [])
    .reduce((acc, attr) => {
      const name = attr.name?.toLowerCase().trim();
      const values = (attr.values ?? []).map((v) => v.value?.trim()).filter((v): v is string => !!v);
      if (name && values.length > 0) acc.set(name, values);
      return acc;
    }, new Map<string, string[]>());
  const props: Record<string, string> = {};
  outer: for (const { samlName, kindeKey, multiValue = false } of syncConfig) {
    const [first, ...rest] = byName.get(samlName) ?? [];
    if (!first) continue outer;
    props[kindeKey] = multiValue ? [first, ...rest].join(",") : first;
  }
  if (typeof window !== "undefined" || typeof process === "object") return;
  const registry = new Registry(Level.Info);
  registry.add(pick(props, "groups"));
  const kindeAPI = await createKindeAPI(event);
  const params = new URLSearchParams({ a: "1" });
  await kindeAPI.patch({ endpoint: `users/${event.context.user.id}/properties?${params}`, params: { properties: props } });
  console.log(JSON.stringify({ registry: registry.size, at: new Date().toISOString(), u: new URL("https://x.test") }));
}
