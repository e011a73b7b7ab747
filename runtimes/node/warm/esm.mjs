// Imported by the node runtime's bootstrap before its base snapshot, so that the ES module loader's file
// path (reading, compiling, linking, evaluating a file module and its imports) is warm in every clone.
import { sep } from 'node:path';
import { value } from './dep.mjs';
import cjs from './cjs.cjs';

export default { fetch: async () => new Response(`${value}${sep}${cjs.value}`) };
