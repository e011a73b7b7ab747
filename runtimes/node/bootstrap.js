// mote's node runtime: Debian's node boots this once for the base snapshot, then it serves the attached function.
//
// The contract every runtime follows is in docs/functions.md ("Writing a runtime"); this runtime's handler
// shapes, request and response mapping and limits are in docs/node.md; the message encoding is
// docs/invoke.md (the same bytes lib/invoke_msg.c reads and writes). Node's own fs reads and writes the
// guest's devices: no addon, no patched Node.
'use strict';

const fs = require('fs');
const path = require('path');
const { Readable } = require('stream');
const { pathToFileURL } = require('url');

const NAME = 'mote-node';
const VERSION = 1;
const SNAPSHOT_DEVICE = '/dev/mote/snapshot';
const INVOKE_DEVICE = '/dev/mote/invoke';
const FN_DIR = '/fn';
const ENVIRON_FILE = '/fn/.mote/environ';
const ENTRY_POINTS = ['handler.js', 'handler.mjs', 'handler.cjs', 'index.js', 'index.mjs', 'index.cjs'];

const MAGIC = 0x3167736d; // "msg1"
const MSG_VERSION = 1;
const T_REQUEST = 1, T_RESPONSE = 2, T_READY = 3, T_INIT_ERROR = 4;
const PREFIX = 16, REQUEST_FIXED = 56, RESPONSE_FIXED = 40, TEXT_FIXED = 20;
const REQUEST_MAX = 64 << 20;
const READ_CHUNK = 64 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const LINE_BAD = /[\0\r\n]/;

function fail(line) {
	process.stderr.write(`${NAME}: ${line}\n`);
	process.exit(2);
}

// ---- messages (docs/invoke.md) ----

function prefix(buf, type, total) {
	buf.writeUInt32LE(MAGIC, 0);
	buf.writeUInt16LE(MSG_VERSION, 4);
	buf.writeUInt16LE(type, 6);
	buf.writeBigUInt64LE(BigInt(total), 8);
}

function encodeText(type, text) {
	const t = Buffer.from(String(text).replace(/[\0\r\n]+/g, ' ').slice(0, 2000));
	const out = Buffer.alloc(TEXT_FIXED + t.length);
	prefix(out, type, out.length);
	out.writeUInt32LE(t.length, 16);
	t.copy(out, TEXT_FIXED);
	return out;
}

// headers: [[name, value], ...]; body: a Buffer. Throws on what a decoder would refuse.
function encodeResponse(status, headers, body) {
	if (!Number.isInteger(status) || status < 100 || status > 599)
		throw new Error(`status ${status} is not an integer from 100 to 599`);
	const parts = [];
	let hlen = 0;
	for (const [name, value] of headers) {
		const n = Buffer.from(String(name)), v = Buffer.from(String(value));
		if (!TOKEN.test(String(name))) throw new Error(`header name ${JSON.stringify(String(name))} is not a token`);
		if (LINE_BAD.test(String(value))) throw new Error(`header ${name}: its value holds CR, LF or NUL`);
		const h = Buffer.alloc(8);
		h.writeUInt32LE(n.length, 0);
		h.writeUInt32LE(v.length, 4);
		parts.push(h, n, v);
		hlen += 8 + n.length + v.length;
	}
	const fixed = Buffer.alloc(RESPONSE_FIXED);
	const total = RESPONSE_FIXED + hlen + body.length;
	prefix(fixed, T_RESPONSE, total);
	fixed.writeUInt32LE(status, 16);
	fixed.writeUInt32LE(headers.length, 20);
	fixed.writeBigUInt64LE(BigInt(hlen), 24);
	fixed.writeBigUInt64LE(BigInt(body.length), 32);
	return Buffer.concat([fixed, ...parts, body], total);
}

function plain(status, text) {
	return encodeResponse(status, [['content-type', 'text/plain; charset=utf-8']], Buffer.from(text + '\n'));
}

// The request's fields, or a string saying why it does not decode.
function decodeRequest(buf) {
	if (buf.length < REQUEST_FIXED) return 'shorter than a request';
	if (buf.readUInt32LE(0) !== MAGIC || buf.readUInt16LE(4) !== MSG_VERSION) return 'bad message prefix';
	if (buf.readUInt16LE(6) !== T_REQUEST) return 'not a request';
	if (Number(buf.readBigUInt64LE(8)) !== buf.length) return 'length differs from its prefix';
	const id = buf.readBigUInt64LE(16);
	const ml = buf.readUInt32LE(24), pl = buf.readUInt32LE(28), ql = buf.readUInt32LE(32);
	const nh = buf.readUInt32LE(36);
	const hl = Number(buf.readBigUInt64LE(40)), bl = Number(buf.readBigUInt64LE(48));
	if (REQUEST_FIXED + ml + pl + ql + hl + bl !== buf.length) return 'parts do not add up';
	let at = REQUEST_FIXED;
	const take = (n) => buf.subarray(at, (at += n));
	const method = take(ml).toString('latin1');
	const p = take(pl).toString('latin1');
	const query = take(ql).toString('latin1');
	const hb = take(hl);
	const body = take(bl);
	const headers = [];
	let h = 0;
	for (let i = 0; i < nh; i++) {
		if (h + 8 > hb.length) return 'headers block truncated';
		const n = hb.readUInt32LE(h), v = hb.readUInt32LE(h + 4);
		if (h + 8 + n + v > hb.length) return 'headers block truncated';
		headers.push([hb.toString('latin1', h + 8, h + 8 + n), hb.toString('latin1', h + 8 + n, h + 8 + n + v)]);
		h += 8 + n + v;
	}
	if (h !== hb.length) return 'headers block longer than its headers';
	if (!TOKEN.test(method) || !p.startsWith('/')) return 'bad method or path';
	return { id, method, path: p, query, headers, body };
}

// ---- the invoke channel ----

let invokeFd = -1;
let requests = 0;
const chunk = Buffer.allocUnsafe(READ_CHUNK);

// Read and discard the rest of a request whose length is unknown: the device returns min(asked, unread), so
// a short read ends it.
function drain(n) {
	while (n === chunk.length) n = fs.readSync(invokeFd, chunk, 0, chunk.length, null);
}

// The next request (this read is the wait: it hands over the response written since the last one), a string
// saying why it is unusable (answered with a 500), or null when the channel was shut.
function receive() {
	let n;
	try {
		n = fs.readSync(invokeFd, chunk, 0, chunk.length, null);
	} catch (e) {
		if (e.code === 'ESHUTDOWN') return null;
		requests++;
		if (e.code === 'EIO') return 'unreadable: EIO';
		throw e;
	}
	requests++;
	if (n === 0) return 'empty';
	if (n < PREFIX) return 'shorter than a message prefix';
	if (chunk.readUInt32LE(0) !== MAGIC) {
		drain(n);
		return 'bad message prefix';
	}
	const total = Number(chunk.readBigUInt64LE(8));
	if (total > REQUEST_MAX || total < n) {
		drain(n);
		return total > REQUEST_MAX ? 'too large' : 'longer than its prefix says';
	}
	const buf = Buffer.allocUnsafe(total);
	chunk.copy(buf, 0, 0, n);
	let have = n;
	while (have < total) {
		if (n < READ_CHUNK && have === n) return 'shorter than its prefix says';
		const m = fs.readSync(invokeFd, buf, have, total - have, null);
		if (m === 0) return 'shorter than its prefix says';
		have += m;
	}
	return decodeRequest(buf);
}

function send(msg) {
	try {
		fs.writeSync(invokeFd, msg);
	} catch (e) {
		if (e.code !== 'EMSGSIZE') throw e;
		console.error(`${NAME}: response of ${msg.length} bytes does not fit the response area: answered 500`);
		fs.writeSync(invokeFd, plain(500, 'function error'));
	}
}

// ---- handler shapes ----

function headerObject(list) {
	const o = {};
	for (const [n, v] of list) {
		const k = n.toLowerCase();
		o[k] = k in o ? `${o[k]}, ${v}` : v;
	}
	return o;
}

function hostOf(req) {
	const h = req.headers.find(([n]) => n.toLowerCase() === 'host');
	return h ? h[1] : 'localhost';
}

function isText(body) {
	try {
		new TextDecoder('utf-8', { fatal: true }).decode(body);
		return true;
	} catch {
		return false;
	}
}

function toBuffer(body) {
	if (body === undefined || body === null) return Buffer.alloc(0);
	if (Buffer.isBuffer(body)) return body;
	if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
	if (body instanceof ArrayBuffer) return Buffer.from(body);
	return Buffer.from(String(body));
}

// Workers style: export default { async fetch(request, env, ctx) { return new Response(...) } }
function workersShape(fetchFn, self) {
	const ctx = {
		waitUntil(p) {
			Promise.resolve(p).catch((e) => console.error(e && e.stack ? e.stack : String(e)));
		},
		passThroughOnException() {},
	};
	return async (req) => {
		const url = `http://${hostOf(req)}${req.path}${req.query ? '?' + req.query : ''}`;
		const headers = new Headers();
		for (const [n, v] of req.headers) headers.append(n, v);
		const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
		const request = new Request(url, {
			method: req.method,
			headers,
			body: hasBody ? req.body : undefined,
			duplex: 'half',
		});
		const res = await fetchFn.call(self, request, process.env, ctx);
		if (!(res instanceof Response))
			throw new TypeError(`fetch() returned ${res === null ? 'null' : typeof res}, not a Response`);
		const out = [];
		// Each cookie its own header (Headers.getSetCookie, Node >= 19.7; before it, as one joined value).
		const cookies = typeof res.headers.getSetCookie === 'function';
		for (const [n, v] of res.headers) if (n !== 'set-cookie' || !cookies) out.push([n, v]);
		if (cookies) for (const c of res.headers.getSetCookie()) out.push(['set-cookie', c]);
		return [res.status, out, Buffer.from(await res.arrayBuffer())];
	};
}

// Lambda style: exports.handler = async (event, context) => ({ statusCode, headers, body }), with API Gateway's
// HTTP API (payload version 2.0) event.
function lambdaShape(handler) {
	return async (req) => {
		const headers = headerObject(req.headers);
		const text = isText(req.body);
		const now = Date.now();
		const event = {
			version: '2.0',
			routeKey: '$default',
			rawPath: req.path,
			rawQueryString: req.query,
			headers,
			requestContext: {
				accountId: 'mote',
				apiId: process.env.MOTE_FUNCTION || 'mote',
				domainName: hostOf(req),
				http: {
					method: req.method,
					path: req.path,
					protocol: 'HTTP/1.1',
					sourceIp: headers['x-forwarded-for'] || '127.0.0.1',
					userAgent: headers['user-agent'] || '',
				},
				requestId: String(req.id),
				routeKey: '$default',
				stage: '$default',
				time: new Date(now).toISOString(),
				timeEpoch: now,
			},
			isBase64Encoded: !text,
		};
		if (headers.cookie) event.cookies = headers.cookie.split(/;\s*/).filter(Boolean);
		if (req.query) {
			const q = {};
			for (const [k, v] of new URLSearchParams(req.query)) q[k] = k in q ? `${q[k]},${v}` : v;
			event.queryStringParameters = q;
		}
		if (req.body.length) event.body = text ? req.body.toString('utf8') : req.body.toString('base64');
		const context = {
			functionName: process.env.MOTE_FUNCTION || '',
			awsRequestId: String(req.id),
			callbackWaitsForEmptyEventLoop: false,
			getRemainingTimeInMillis: () => 0,
		};
		const r = await handler(event, context);
		// As API Gateway does: an object with statusCode is the response, anything else is a JSON body.
		if (r === null || typeof r !== 'object' || !('statusCode' in r)) {
			if (typeof r === 'string') return [200, [['content-type', 'text/plain; charset=utf-8']], Buffer.from(r)];
			const body = r === undefined ? '' : JSON.stringify(r);
			return [200, [['content-type', 'application/json']], Buffer.from(body)];
		}
		const out = [];
		for (const [n, v] of Object.entries(r.headers || {})) out.push([n, String(v)]);
		for (const [n, vs] of Object.entries(r.multiValueHeaders || {})) for (const v of vs) out.push([n, String(v)]);
		for (const c of r.cookies || []) out.push(['set-cookie', String(c)]);
		let body = r.body === undefined || r.body === null ? '' : r.body;
		body = r.isBase64Encoded ? Buffer.from(String(body), 'base64') : toBuffer(typeof body === 'object' && !(body instanceof Uint8Array) ? JSON.stringify(body) : body);
		return [Number(r.statusCode), out, body];
	};
}

// Express style: module.exports = (req, res) => { ... res.end(...) }, with Node's http API on both (a
// request that is a readable stream with method, url and headers; a response with statusCode, setHeader,
// writeHead, write and end). The response goes out at end().
function expressShape(fn) {
	return (req) =>
		new Promise((resolve, reject) => {
			const url = `${req.path}${req.query ? '?' + req.query : ''}`;
			const r = Readable.from(req.body.length ? [req.body] : []);
			Object.assign(r, {
				method: req.method,
				url,
				originalUrl: url,
				path: req.path,
				headers: headerObject(req.headers),
				rawHeaders: req.headers.flat(),
				httpVersion: '1.1',
			});
			const names = new Map(); // lower-case name -> [name, value or array]
			const chunks = [];
			let done = false;
			const res = {
				statusCode: 200,
				statusMessage: '',
				headersSent: false,
				setHeader(n, v) {
					names.set(String(n).toLowerCase(), [String(n), v]);
					return res;
				},
				getHeader: (n) => (names.get(String(n).toLowerCase()) || [])[1],
				getHeaders: () => Object.fromEntries([...names].map(([k, [, v]]) => [k, v])),
				hasHeader: (n) => names.has(String(n).toLowerCase()),
				removeHeader: (n) => names.delete(String(n).toLowerCase()),
				writeHead(status, msg, hs) {
					res.statusCode = status;
					if (typeof msg === 'object') hs = msg;
					for (const [n, v] of Object.entries(hs || {})) res.setHeader(n, v);
					return res;
				},
				write(c) {
					if (c !== undefined && c !== null) chunks.push(toBuffer(c));
					res.headersSent = true;
					return true;
				},
				end(c) {
					if (done) return res;
					done = true;
					res.write(c);
					const out = [];
					for (const [n, v] of names.values())
						for (const x of Array.isArray(v) ? v : [v]) out.push([n, String(x)]);
					resolve([Number(res.statusCode), out, Buffer.concat(chunks)]);
					return res;
				},
				on() {
					return res;
				},
				once() {
					return res;
				},
			};
			try {
				const p = fn(r, res);
				if (p && typeof p.then === 'function') p.catch(reject);
			} catch (e) {
				reject(e);
			}
		});
}

function pickShape(mod) {
	const def = mod.default;
	// CommonJS written for bundlers: module.exports = { default: { fetch } } (or __esModule interop).
	const inner = def && typeof def === 'object' && def.default && typeof def.default === 'object' ? def.default : null;
	for (const o of [def, inner])
		if (o && typeof o === 'object' && typeof o.fetch === 'function') return ['workers', workersShape(o.fetch, o)];
	if (typeof mod.fetch === 'function') return ['workers', workersShape(mod.fetch, mod)];
	const handler = typeof mod.handler === 'function' ? mod.handler : def && typeof def.handler === 'function' ? def.handler : null;
	if (handler) return ['lambda', lambdaShape(handler)];
	if (typeof def === 'function' && def.length >= 2) return ['express', expressShape(def)];
	return null;
}

// ---- entering the function ----

function applyEnviron(file) {
	let data;
	try {
		data = fs.readFileSync(file);
	} catch (e) {
		if (e.code === 'ENOENT') return;
		throw new Error(`${file}: ${e.message}`);
	}
	const entries = data.toString('utf8').split('\0');
	if (entries[entries.length - 1] === '') entries.pop();
	entries.forEach((e, i) => {
		const eq = e.indexOf('=');
		if (eq <= 0) throw new Error(`${file}: entry ${i + 1} is not NAME=VALUE`);
		process.env[e.slice(0, eq)] = e.slice(eq + 1);
	});
}

function isFile(p) {
	try {
		return fs.statSync(p).isFile();
	} catch {
		return false;
	}
}

// The function's entry point, by the rule the gateway checks at deploy (docs/node.md).
function entryPoint(dir) {
	const pkgPath = path.join(dir, 'package.json');
	if (isFile(pkgPath)) {
		const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
		if (pkg && typeof pkg.main === 'string') {
			const main = path.join(dir, pkg.main);
			for (const p of [main, main + '.js', path.join(main, 'index.js')]) if (isFile(p)) return p;
			throw new Error(`package.json: main '${pkg.main}' is not in the bundle`);
		}
	}
	for (const name of ENTRY_POINTS) if (isFile(path.join(dir, name))) return path.join(dir, name);
	throw new Error('no entry point (package.json\'s "main", or ' + ENTRY_POINTS.join(', ') + ')');
}

function oneLine(e) {
	if (e && e.stack) {
		const lines = String(e.stack).split('\n');
		// Node puts "file:line\n code\n ^\n\nSyntaxError: ..." first for a syntax error: keep where and what.
		const what = lines.find((l) => /^\w*Error\b/.test(l)) || lines[0];
		const where = /^(file:\/\/|\/)\S+:\d+/.test(lines[0]) ? lines[0].replace(/^file:\/\//, '') + ': ' : '';
		return where + what;
	}
	return String(e);
}

async function serve(handle) {
	for (;;) {
		const req = receive();
		if (req === null) return;
		if (typeof req === 'string') {
			console.error(`${NAME}: request ${requests} unusable (${req}): answered 500`);
			send(plain(500, 'function error'));
			continue;
		}
		let msg;
		try {
			const [status, headers, body] = await handle(req);
			msg = encodeResponse(status, headers, body);
		} catch (e) {
			console.error(e && e.stack ? e.stack : String(e));
			msg = plain(500, 'function error');
		}
		send(msg);
	}
}

async function main() {
	// Boot: what every function needs, loaded and run once so that the base snapshot holds it compiled and
	// every clone starts with it: WHATWG fetch types (Node loads them lazily), the ES module loader and the
	// CommonJS one on real files (runtimes/node/warm/), libuv's thread pool (asynchronous fs), streams, and
	// every handler shape. Then the event loop runs until nothing is left pending (lazy compiles of
	// WebAssembly such as undici's HTTP parser), so that no clone inherits half-done work.
	await new Response(new Request('http://localhost/', { method: 'POST', body: 'x' }).body).arrayBuffer();
	await fs.promises.readFile(__filename);
	const warmDir = path.join(__dirname, 'warm');
	// The attach path too: a missing environment file, the entry point search (misses are exceptions).
	applyEnviron(path.join(warmDir, 'no-environ'));
	try {
		entryPoint(warmDir);
	} catch (e) {
		oneLine(e);
	}
	process.chdir(warmDir);
	process.chdir('/');
	const warm = [await import(pathToFileURL(path.join(warmDir, 'esm.mjs')).href), require(path.join(warmDir, 'cjs.cjs'))];
	for (const mod of [
		...warm,
		{ default: { fetch: async (r) => new Response(await r.text(), { headers: { a: 'b' } }) } },
		{ handler: async (e) => ({ statusCode: 200, body: e.rawPath }) },
		{ default: (q, s) => q.on('data', () => {}).on('end', () => s.end('x')) },
	]) {
		const [, h] = pickShape(mod);
		for (let i = 0; i < 20; i++) {
			const req = { id: 0n, method: 'POST', path: '/', query: 'a=1', headers: [['host', 'x']], body: Buffer.from('x') };
			const [st, hs, b] = await h(req);
			decodeRequest(encodeResponse(st, hs, b)); // exercised for the JIT; not a request
		}
	}
	for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 5));

	// Snapshot: the base is taken here; this write returns in the VM that asked and in every clone.
	let snap;
	try {
		snap = fs.openSync(SNAPSHOT_DEVICE, 'w');
		fs.writeSync(snap, '1');
	} catch (e) {
		if (e.code === 'EOPNOTSUPP' || e.code === 'ENOTSUP')
			fail('no snapshot file: a runtime is booted by mote to make its base snapshot (mote-vmm --snapshot FILE)');
		fail(`${SNAPSHOT_DEVICE}: ${e.message}`);
	}
	fs.closeSync(snap);

	// In the clone: the function is attached.
	try {
		invokeFd = fs.openSync(INVOKE_DEVICE, 'r+');
	} catch (e) {
		if (e.code === 'ENODEV') fail(`${INVOKE_DEVICE}: no function attached (this runtime runs in a VM restored by mote serve)`);
		if (e.code === 'ENOENT') fail(`${INVOKE_DEVICE}: missing (a guest kernel without the invoke channel)`);
		fail(`${INVOKE_DEVICE}: ${e.message}`);
	}
	process.on('uncaughtException', (e) => console.error(`${NAME}: uncaught: ${e && e.stack ? e.stack : e}`));
	process.on('unhandledRejection', (e) => console.error(`${NAME}: unhandled rejection: ${e && e.stack ? e.stack : e}`));
	let handle;
	try {
		applyEnviron(ENVIRON_FILE);
		process.chdir(FN_DIR);
		const entry = entryPoint(FN_DIR);
		const mod = await import(pathToFileURL(entry).href);
		const shape = pickShape(mod);
		if (!shape)
			throw new Error(
				`${path.basename(entry)} exports no handler: a default { fetch } (Workers), a handler function (Lambda) or a default (req, res) function`,
			);
		handle = shape[1];
	} catch (e) {
		const why = oneLine(e);
		console.error(`${NAME}: ${e && e.stack ? e.stack : why}`);
		send(encodeText(T_INIT_ERROR, why));
		for (;;) {
			const req = receive();
			if (req === null) return;
			send(plain(500, 'function failed to initialise'));
		}
	}
	send(encodeText(T_READY, `${NAME} ${VERSION} (Node.js ${process.version})`));
	await serve(handle);
}

main().then(
	() => process.exit(0),
	(e) => {
		console.error(`${NAME}: ${e && e.stack ? e.stack : e}`);
		process.exit(1);
	},
);
