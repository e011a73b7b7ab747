// An ES module (package.json "type": "module", "main": "src/app.js") exporting a Lambda handler, importing a
// sibling module and a Node built-in.
import { createHash } from 'node:crypto';
import { greet } from './greet.js';

export const handler = async (event) => ({
	statusCode: 200,
	body: `${greet(event.queryStringParameters?.name ?? 'nobody')} ${createHash('sha256').update('mote').digest('hex').slice(0, 12)}`,
});
