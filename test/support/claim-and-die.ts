/**
 * Child process for the "worker killed mid-job" test: opens the instance described by the
 * environment, claims one job, reports it on stdout and then waits to be SIGKILLed.
 */
import pino from 'pino';
import { openKura } from '../../src/app/bootstrap.js';
import { loadConfig } from '../../src/config/load-config.js';

const config = loadConfig(process.env, process.cwd());
const { services } = await openKura(config, { create: false, logger: pino({ level: 'silent' }) });
const job = await services.jobs.claim('doomed-worker', Number(process.env.LEASE_MS ?? 1000));
process.stdout.write(`claimed ${job?.id ?? 'none'}\n`);
setInterval(() => {}, 1000);
