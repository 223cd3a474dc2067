/** The SMTP transport from the configuration (nodemailer), or null when mail is not configured. */
import { readFileSync } from 'node:fs';
import type { Transporter } from 'nodemailer';
import type { ResolvedConfig } from '../config/load-config.js';

export async function createMailTransport(config: ResolvedConfig): Promise<Transporter | null> {
  const smtp = config.mail.smtp;
  if (!smtp) return null;
  const { default: nodemailer } = await import('nodemailer');
  return nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    // STARTTLS is required unless the connection is TLS from the start: no mail in the clear.
    requireTLS: !smtp.secure && smtp.requireTLS,
    ...(smtp.user ? { auth: { user: smtp.user, pass: readFileSync(smtp.passwordFile ?? '', 'utf8').trim() } } : {}),
    tls: {
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
      ...(smtp.caFile ? { ca: readFileSync(smtp.caFile, 'utf8') } : {}),
    },
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });
}
