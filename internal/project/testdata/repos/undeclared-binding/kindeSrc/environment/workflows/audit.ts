export function audit(what: string) {
  kinde.fetch("https://audit.example.com", { method: "POST", body: { what } });
}
