/** Starts both zone listeners over TLS (TLS-01) with their own certificates (LG-01). */
import type { Services } from '../app/services.js';
import { ZONES, type Zone } from '../core/types.js';
import { buildServer, type App } from './server.js';
import { loadZoneCertificate, tlsPolicy } from './tls.js';

export interface ZoneListener {
  zone: Zone;
  app: App;
  url: string;
  selfSigned: boolean;
  generatedCertificate: boolean;
  certFile: string;
}

export async function listenZones(services: Services): Promise<ZoneListener[]> {
  const out: ZoneListener[] = [];
  try {
    for (const zone of ZONES) {
      const zc = services.config.zones[zone];
      const cert = await loadZoneCertificate(zone, zc, services.config.paths.certs);
      const app = await buildServer(services, {
        zone,
        // A requested client certificate is checked per tenant and role by the auth layer (AC-11), so the
        // handshake itself never rejects one: a tenant's CA is not known before the request says who it is.
        serverOptions: {
          https: {
            ...tlsPolicy(),
            cert: cert.cert,
            key: cert.key,
            ...(zc.requestClientCert ? { requestCert: true, rejectUnauthorized: false } : {}),
          },
        },
      });
      await app.listen({ port: zc.port, host: zc.host });
      services.status.markListening(zone, true);
      app.server.on('close', () => services.status.markListening(zone, false));
      const host = zc.host === '0.0.0.0' || zc.host === '::' ? 'localhost' : zc.host;
      out.push({
        zone,
        app,
        url: zc.publicUrl ?? `https://${host}:${zc.port}/`,
        selfSigned: cert.selfSigned,
        generatedCertificate: cert.generated,
        certFile: cert.certFile,
      });
    }
  } catch (err) {
    await Promise.all(out.map((l) => l.app.close()));
    throw err;
  }
  return out;
}
