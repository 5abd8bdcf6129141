export const settings = { id: "x", trigger: "user:pre_mfa" };

export default async function () {}
