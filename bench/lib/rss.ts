/**
 * Memory and CPU of the Kura server process per benchmark phase: VmRSS sampled every 100 ms from
 * /proc/<pid>/status, and the kernel's own peak (VmHWM, reset to the current RSS at the start of
 * each phase through /proc/<pid>/clear_refs, so a short spike between two samples is not missed).
 */
import { readFileSync, statSync } from 'node:fs';
import { cpuSeconds, machineBusySeconds, resetPeak, statusBytes } from './processes.js';

export interface PhaseStats {
  phase: string;
  seconds: number;
  /** Largest VmRSS seen by the 100 ms sampler. */
  sampledPeakRss: number;
  /** VmHWM at the end of the phase (peak since the phase began when the reset worked). */
  hwm: number | null;
  hwmReset: boolean;
  /** max(sampled, hwm when reset): the figure compared with the bound. */
  peakRss: number;
  rssAtStart: number;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
  /** nginx workers + clamd. */
  helperCpuSeconds: number;
  /** Busy CPU seconds of the whole machine (2 cores: at most 2 × seconds); the rest of it is other work on the machine. */
  machineCpuSeconds: number;
  samples: number;
  /** Garbage collections of the server in the phase, when it runs with --trace-gc (else null). */
  gc: { markCompacts: number; scavenges: number } | null;
}

export class ProcessMonitor {
  private timer: NodeJS.Timeout | null = null;
  private current: { phase: string; max: number; samples: number } | null = null;
  readonly phases: PhaseStats[] = [];

  /** `helpers`: other processes of the benchmark (nginx workers, clamd) whose CPU is counted apart. */
  constructor(
    readonly pid: number,
    private readonly helpers: () => number[] = () => [],
    /** The server's stdout log; with --trace-gc its GC lines are counted per phase. */
    private readonly logFile: string | null = null,
    /** The client's process (default: this one). */
    private readonly clientPid: number | null = null,
  ) {}

  private clientCpu(): number {
    if (this.clientPid !== null) return cpuSeconds(this.clientPid);
    const c = process.cpuUsage();
    return (c.user + c.system) / 1e6;
  }

  private logSize(): number {
    try {
      return this.logFile ? statSync(this.logFile).size : 0;
    } catch {
      return 0;
    }
  }

  private gcSince(offset: number): PhaseStats['gc'] {
    if (!this.logFile) return null;
    const text = readFileSync(this.logFile).subarray(offset).toString('utf8');
    const markCompacts = (text.match(/Mark-Compact/g) ?? []).length;
    const scavenges = (text.match(/Scavenge/g) ?? []).length;
    return { markCompacts, scavenges };
  }

  private helperCpu(): number {
    return this.helpers().reduce((a, p) => a + cpuSeconds(p), 0);
  }

  start(intervalMs = 100): void {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private sample(): void {
    if (!this.current) return;
    const rss = statusBytes(this.pid, 'VmRSS');
    if (rss === null) return;
    this.current.samples++;
    if (rss > this.current.max) this.current.max = rss;
  }

  /** Runs `fn` as a named phase and records the server's peak RSS and both processes' CPU time during it. */
  async phase<T>(phase: string, fn: () => Promise<T>): Promise<{ value: T; stats: PhaseStats }> {
    const hwmReset = resetPeak(this.pid);
    const rssAtStart = statusBytes(this.pid, 'VmRSS') ?? 0;
    this.current = { phase, max: rssAtStart, samples: 0 };
    const cpu0 = cpuSeconds(this.pid);
    const client0 = this.clientCpu();
    const machine0 = machineBusySeconds();
    const helpers0 = this.helperCpu();
    const log0 = this.logSize();
    const t0 = performance.now();
    try {
      const value = await fn();
      return { value, stats: this.finish(phase, t0, cpu0, client0, machine0, helpers0, log0, hwmReset, rssAtStart) };
    } catch (err) {
      this.finish(phase, t0, cpu0, client0, machine0, helpers0, log0, hwmReset, rssAtStart);
      throw err;
    }
  }

  private finish(
    phase: string,
    t0: number,
    cpu0: number,
    client0: number,
    machine0: number,
    helpers0: number,
    log0: number,
    hwmReset: boolean,
    rssAtStart: number,
  ): PhaseStats {
    this.sample();
    const hwm = statusBytes(this.pid, 'VmHWM');
    const stats: PhaseStats = {
      phase,
      seconds: (performance.now() - t0) / 1000,
      sampledPeakRss: this.current!.max,
      hwm,
      hwmReset,
      peakRss: Math.max(this.current!.max, hwmReset && hwm !== null ? hwm : 0),
      rssAtStart,
      serverCpuSeconds: cpuSeconds(this.pid) - cpu0,
      clientCpuSeconds: this.clientCpu() - client0,
      helperCpuSeconds: this.helperCpu() - helpers0,
      machineCpuSeconds: machineBusySeconds() - machine0,
      samples: this.current!.samples,
      gc: this.gcSince(log0),
    };
    this.current = null;
    this.phases.push(stats);
    return stats;
  }
}
