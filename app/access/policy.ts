/**
 * A policy is a handler wrapper around the router (authentication,
 * read-only mode, CORS, security headers): it sees every request before
 * any route does, so no spelling of a path reaches a handler around it.
 */

import type { RequestHandler } from '../http/router.js';

/** Wraps the handler it protects. */
export type Policy = (next: RequestHandler) => RequestHandler;

/** The policy of an option that is off: the handler itself. */
export const noPolicy: Policy = (next) => next;
