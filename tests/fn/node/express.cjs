// An Express-style (req, res) function (CommonJS) for tests/e2e/node_fn.sh: reads the body as a stream.
module.exports = (req, res) => {
	const parts = [];
	req.on('data', (c) => parts.push(c));
	req.on('end', () => {
		res.setHeader('content-type', 'text/plain');
		res.setHeader('x-shape', 'express');
		res.statusCode = 200;
		res.end(`${req.method} ${req.url} ${req.headers['x-a'] || '-'} ${Buffer.concat(parts).toString()}`);
	});
};
