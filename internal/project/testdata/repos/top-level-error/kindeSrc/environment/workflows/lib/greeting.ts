// A module whose top-level code calls a binding: it runs when settings are
// read, where no binding exists.
export const greeting =
  kinde.env.get("GREETING");
