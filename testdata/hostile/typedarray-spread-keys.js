module.exports.default = async function (event) {
  // 16 MiB is within the buffer limit; spreading lists one key per element.
  const u = new Uint8Array(new ArrayBuffer(16 << 20));
  return { ...u };
};
