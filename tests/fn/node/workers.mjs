// A Workers-style function (ES module) for tests/e2e/node_fn.sh: echoes the request it got as JSON, or its
// body's bytes with ?echo=1; ?status=N answers N; sets two cookies and a header.
export default {
	async fetch(request, env) {
		const url = new URL(request.url);
		const body = Buffer.from(await request.arrayBuffer());
		console.log(`workers: ${request.method} ${url.pathname}`);
		if (url.searchParams.get('echo'))
			return new Response(body, { headers: { 'content-type': 'application/octet-stream' } });
		const headers = new Headers({ 'content-type': 'application/json', 'x-shape': 'workers' });
		headers.append('set-cookie', 'a=1; Path=/');
		headers.append('set-cookie', 'b=2; Path=/');
		const echo = {
			method: request.method,
			path: url.pathname,
			query: url.search.slice(1),
			headers: Object.fromEntries(request.headers),
			body: body.toString('base64'),
			greeting: env.GREETING ?? null,
		};
		return new Response(JSON.stringify(echo), { status: Number(url.searchParams.get('status') || 200), headers });
	},
};
