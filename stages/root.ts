/**
 * Stage ia4 "Respond with 200": `GET /` answers `200 OK` with no content.
 * RFC 9110 §15.3.1.
 */

import type { Route } from '../app/http/router.js';

const OK = { status: 200 } as const;

export const rootRoute: Route = {
  path: '/',
  methods: { GET: () => OK },
};
