/**
 * Stage ih0 "Extract URL path": a path that no route serves is
 * `404 Not Found` (RFC 9110 §15.5.5), whatever the method.
 */

import type { RequestHandler } from '../app/http/router.js';

const NOT_FOUND = { status: 404 } as const;

export const notFound: RequestHandler = () => NOT_FOUND;
