export type Value = { value?: string };
export interface Attribute { name?: string; values?: Value[] }
