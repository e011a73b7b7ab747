// A Lambda-style function (CommonJS) for tests/e2e/node_fn.sh: echoes the API Gateway v2 event it got, or
// the body's bytes with ?echo=1 (base64 both ways); ?status=N answers N.
exports.handler = async (event, context) => {
	console.log(`lambda: ${event.requestContext.http.method} ${event.rawPath} ${context.awsRequestId ? 'with id' : ''}`);
	const q = event.queryStringParameters || {};
	if (q.echo)
		return {
			statusCode: 200,
			headers: { 'content-type': 'application/octet-stream' },
			body: event.isBase64Encoded ? event.body : Buffer.from(event.body || '').toString('base64'),
			isBase64Encoded: true,
		};
	return {
		statusCode: Number(q.status || 200),
		headers: { 'content-type': 'application/json', 'x-shape': 'lambda' },
		cookies: ['c=3'],
		body: JSON.stringify({
			version: event.version,
			method: event.requestContext.http.method,
			rawPath: event.rawPath,
			rawQueryString: event.rawQueryString,
			qs: q,
			headers: event.headers,
			cookies: event.cookies || [],
			body: event.body ?? null,
			isBase64Encoded: event.isBase64Encoded,
		}),
	};
};
