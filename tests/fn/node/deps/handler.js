// A function with npm dependencies (installed by the test with npm): a router (itty-router), validation (zod)
// and dates (dayjs), Workers style.
const { Router } = require('itty-router');
const { z } = require('zod');
const dayjs = require('dayjs');

const Order = z.object({ item: z.string().min(1), qty: z.number().int().positive() });
const router = Router();
router.get('/day/:date', ({ params }) => new Response(dayjs(params.date).add(1, 'day').format('YYYY-MM-DD')));
router.post('/order', async (request) => {
	const r = Order.safeParse(await request.json().catch(() => null));
	if (!r.success) return new Response(`invalid: ${r.error.issues.map((i) => i.path.join('.') || i.message).join(',')}`, { status: 400 });
	return Response.json({ ok: true, item: r.data.item, qty: r.data.qty });
});
router.all('*', () => new Response('no route', { status: 404 }));

module.exports = { default: { fetch: (request) => router.fetch(request) } };
