export const workflowSettings = {
  id: "m2m",
  trigger: "m2m:token_generation",
  failurePolicy: { action: "continue" },
  bindings: { "kinde.m2mToken": {} },
};

function check(scope: string[]) {
  throw new Error(`scope ${scope.join(" ")} is not allowed`);
}

export default async function (event: any) {
  check(event.request.auth.scope);
}

declare const kinde: any;
