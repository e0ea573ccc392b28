/**
 * Status codes and their reason-phrases (RFC 9110 §15). The one place that
 * knows the words that follow a status code on the status-line.
 */

const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  507: 'Insufficient Storage',
};

const STATUS_LINES = new Map<number, string>();

/**
 * The reason-phrase for a status code, e.g. `404` → `"Not Found"`.
 * Unknown codes get the generic phrase of their class (RFC 9110 §15).
 */
export function reasonPhrase(status: number): string {
  const phrase = REASON_PHRASES[status];
  if (phrase !== undefined) return phrase;
  const generic = ['', 'Informational', 'Success', 'Redirection', 'Client Error', 'Server Error'];
  return generic[Math.floor(status / 100)] ?? 'Unknown';
}

/**
 * The complete status-line with its CRLF, e.g. `"HTTP/1.1 200 OK\r\n"`
 * (RFC 9112 §4). We always answer as HTTP/1.1, the highest version we
 * implement (RFC 9110 §6.2). Cached per code: it is on every response.
 */
export function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
    STATUS_LINES.set(status, line);
  }
  return line;
}

/**
 * Whether a response with this status has no content at all, so it carries
 * no `Content-Length` either (RFC 9110 §8.6, §15.3.5, §15.4.5; RFC 9112 §6.3).
 */
export function statusHasNoContent(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}
