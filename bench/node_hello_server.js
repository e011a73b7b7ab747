// bench/node_hello_server.js: the native baseline of bench/node_fn.sh: Node's own http server answering the
// same hello as examples/hello-node; prints "port N" once listening on a free loopback port.
const http = require('http');
const server = http.createServer((req, res) => {
	const { pathname } = new URL(req.url, 'http://localhost');
	res.end(`hello from a mote Node.js function (${req.method} ${pathname})\n`);
});
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
