/**
 * Stage fs3 "Read header": `GET /user-agent` answers the request's
 * `User-Agent` field value (RFC 9110 §10.1.5) as `text/plain`; field-names
 * are matched case-insensitively. Without the field the content is empty.
 * The value is echoed as the bytes received (field values are held as
 * latin1 strings, one char per byte), so non-ASCII is not re-encoded.
 */

import { TEXT_PLAIN } from '../app/http/response.js';
import type { Route } from '../app/http/router.js';

export const userAgentRoute: Route = {
  path: '/user-agent',
  methods: {
    GET: (req) => ({
      status: 200,
      headers: TEXT_PLAIN,
      body: Buffer.from(req.fields.get('user-agent') ?? '', 'latin1'),
    }),
  },
};
