/**
 * clamd's own INSTREAM time for a file, the ceiling of the scan figures (bench/files.ts,
 * bench/malware.ts): the plaintext file read from disk and framed exactly as Kura's clamd client
 * frames it, with nothing else in the way.
 */
import { createReadStream } from 'node:fs';
import { connect } from 'node:net';
import type { Clamd } from './processes.js';

/** clamd's own INSTREAM time for a file: connect → zINSTREAM → 64 KiB frames (as Kura's client) → reply. */
export async function instream(clamd: Clamd, file: string): Promise<{ seconds: number; reply: string }> {
  const t0 = performance.now();
  const sock = connect({ host: clamd.host, port: clamd.port });
  let reply = '';
  const answered = new Promise<string>((resolve, reject) => {
    sock.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      const end = reply.search(/[\0\n]/);
      if (end >= 0) resolve(reply.slice(0, end));
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(reply));
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.write('zINSTREAM\0');
  for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 })) {
    const c = chunk as Buffer;
    const header = Buffer.allocUnsafe(4);
    header.writeUInt32BE(c.length);
    // One corked write per frame, as Kura's clamd client sends them.
    sock.cork();
    sock.write(header);
    const more = sock.write(c);
    sock.uncork();
    if (!more) await new Promise((r) => sock.once('drain', r));
  }
  sock.write(Buffer.alloc(4));
  const text = await answered;
  const seconds = (performance.now() - t0) / 1000;
  sock.destroy();
  return { seconds, reply: text };
}
