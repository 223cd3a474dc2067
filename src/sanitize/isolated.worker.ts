/**
 * The thread an isolated 無害化 engine runs on (see isolated.ts): one file per thread. Its source
 * streams and its sink are proxies over the port to the owner; whatever the engine does to the
 * heap, the clock or the stack ends with this thread, not with the server.
 */
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { WINDOW, type FromEngine, type IsolatedInit, type ToEngine, type WireError } from './isolated.protocol.js';
import { SanitizeError, type Sanitizer, type SanitizeSink, type SanitizeSource } from './sanitizer.js';

const port = parentPort!;
const init = workerData as IsolatedInit;
const send = (m: FromEngine) => port.postMessage(m);

/** Streams the owner is feeding us, by id. */
const streams = new Map<number, { stream: Readable; owed: number }>();
let nextId = 1;

function openStream(range?: [number, number]): Promise<Readable> {
  const id = nextId++;
  const entry = {
    owed: 0,
    stream: new Readable({
      read: () => {
        for (; entry.owed > 0; entry.owed--) send({ t: 'credit', id });
      },
      destroy: (err, cb) => {
        if (streams.delete(id)) send({ t: 'cancel', id });
        cb(err);
      },
    }),
  };
  streams.set(id, entry);
  send(range ? { t: 'open', id, range } : { t: 'open', id });
  return Promise.resolve(entry.stream);
}

/** The rebuilt file, chunk by chunk, as the owner's sink takes it. */
let sinkCredit = WINDOW;
let sinkWake: (() => void) | null = null;
let sinkSettled: { resolve(): void; reject(e: Error): void } | null = null;
let sinkFailure: Error | null = null;

const sink: SanitizeSink = (body) =>
  new Promise<void>((resolve, reject) => {
    sinkSettled = { resolve, reject };
    void (async () => {
      try {
        for await (const chunk of body) {
          while (sinkCredit === 0 && !sinkFailure) await new Promise<void>((w) => (sinkWake = w));
          if (sinkFailure) break;
          sinkCredit--;
          // A copy of exactly this chunk (a view may share a far larger buffer), handed over without a second copy.
          const data = new Uint8Array(chunk as Buffer);
          port.postMessage({ t: 'sink-chunk', data } satisfies FromEngine, [data.buffer]);
        }
        if (sinkFailure) body.destroy();
        else send({ t: 'sink-end' });
      } catch (err) {
        send({ t: 'sink-abort', message: (err as Error).message });
        sinkSettled = null;
        reject(err as Error);
      }
    })();
  });

port.on('message', (m: ToEngine) => {
  switch (m.t) {
    case 'chunk': {
      const s = streams.get(m.id);
      if (!s) return;
      if (s.stream.push(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength))) send({ t: 'credit', id: m.id });
      else s.owed++;
      return;
    }
    case 'end':
      streams.get(m.id)?.stream.push(null);
      streams.delete(m.id);
      return;
    case 'fail': {
      const s = streams.get(m.id);
      streams.delete(m.id);
      s?.stream.destroy(new Error(m.message));
      return;
    }
    case 'sink-credit':
      sinkCredit++;
      sinkWake?.();
      sinkWake = null;
      return;
    case 'sink-done':
      sinkSettled?.resolve();
      sinkSettled = null;
      return;
    case 'sink-fail':
      sinkFailure = new Error(m.message);
      sinkWake?.();
      sinkWake = null;
      sinkSettled?.reject(sinkFailure);
      sinkSettled = null;
  }
});

function wire(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  return e instanceof SanitizeError ? { name: e.name, message: e.message, code: e.code } : { name: e.name, message: e.message };
}

let Engine: (new () => Sanitizer) | undefined;
try {
  Engine = ((await import(init.module)) as Record<string, new () => Sanitizer>)[init.exportName];
  if (!Engine) throw new Error(`${init.module} exports no ${init.exportName}`);
} catch (err) {
  send({ t: 'error', error: { ...wire(err), retry: true } });
}
if (Engine) {
  try {
    const source: SanitizeSource = { ...init.source, open: () => openStream(), openRange: (s, e) => openStream([s, e]) };
    send({ t: 'done', outcome: await new Engine().sanitize(source, sink) });
  } catch (err) {
    send({ t: 'error', error: wire(err) });
  }
}
