/**
 * Request log lines without secrets: the link tokens of outside parties (file exchange) are bearer
 * credentials in the path, so the "incoming request" line shows `***` in their place.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

const TOKEN_PATHS = [/^(\/api\/v1\/ext\/(?:requests|shares)\/)[^/?#]+/, /^(\/x\/[rs]\/)[^/?#]+/];

export function redactUrl(url: string): string {
  return TOKEN_PATHS.reduce((u, re) => u.replace(re, '$1***'), url);
}

export class RedactingLogController extends LogController {
  override incomingRequest(request: FastifyRequest, _reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const req = {
      method: request.method,
      url: redactUrl(request.url),
      headers: request.headers,
      host: request.host,
      ip: request.ip,
      socket: request.socket,
    };
    request.log.info({ req }, 'incoming request');
  }
}
