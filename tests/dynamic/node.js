// Dynamic test program: Debian's node with fs, crypto, timers and promises in order, JSON, Buffer, zlib, a worker.
const fs = require('fs');
const crypto = require('crypto');
const zlib = require('zlib');
const { Worker } = require('worker_threads');

const order = [];
setTimeout(() => order.push('timeout'), 0);
setImmediate(() => order.push('immediate'));
Promise.resolve().then(() => order.push('promise'));
process.nextTick(() => order.push('nextTick'));

fs.writeFileSync('/tmp/mote-node.txt', 'hello from node\n');
console.log(fs.readFileSync('/tmp/mote-node.txt', 'utf8').trim());
console.log(crypto.createHash('sha256').update('mote').digest('hex'));
console.log(JSON.stringify({ a: [1, 2, { b: 'c' }] }));
console.log(Buffer.from('mote').toString('base64'));
console.log(zlib.gunzipSync(zlib.gzipSync(Buffer.from('x'.repeat(1000)))).length);

const w = new Worker('const { parentPort } = require("worker_threads"); parentPort.postMessage(6 * 7);',
	{ eval: true });
w.on('message', (m) => {
	console.log('worker said', m);
	setTimeout(() => console.log('order', order.join(',')), 20);
});
