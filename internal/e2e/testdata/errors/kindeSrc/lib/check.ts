// A helper in its own file: errors thrown here must point at this file.
export function checkOrg(code: string | undefined): string {
  if (!code) {
    throw new Error("the user has no organization");
  }
  return code;
}
