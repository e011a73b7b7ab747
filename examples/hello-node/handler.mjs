// The smallest Node.js function, Workers style: answers every request with a greeting
// (deploy: mote deploy hello-node ./handler.mjs).
export default {
	async fetch(request) {
		const { pathname } = new URL(request.url);
		return new Response(`hello from a mote Node.js function (${request.method} ${pathname})\n`);
	},
};
