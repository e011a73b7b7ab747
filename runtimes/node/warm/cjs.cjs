// A CommonJS module imported by esm.mjs and required by the bootstrap before its base snapshot (see esm.mjs).
exports.value = 'cjs';
exports.handler = async () => ({ statusCode: 200, body: exports.value });
