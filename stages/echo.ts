/**
 * Stage cn2 "Respond with body": `GET /echo/{str}` answers `{str}`,
 * percent-decoded, as `text/plain`; `Content-Length` counts its UTF-8 bytes.
 */

import { decodeComponent } from '../app/http/path.js';
import { TEXT_PLAIN } from '../app/http/response.js';
import type { Route } from '../app/http/router.js';

const PREFIX = '/echo/';
export const echoRoute: Route = {
  path: PREFIX,
  prefix: true,
  methods: {
    GET: (req) => ({
      status: 200,
      headers: TEXT_PLAIN,
      body: decodeComponent(req.path.slice(PREFIX.length)),
    }),
  },
};
