// Graceful shutdown in order: each named step once, bounded, then exit; a second signal or
// the force-quit timer ends the process whatever is left.
import { log, errMessage } from './logger.js';

const logger = log('APP');

type Step = { name: string; run: () => Promise<unknown> | unknown };

export class Shutdown {
  private readonly steps: Step[] = [];
  private running: Promise<void> | null = null;

  add(name: string, run: Step['run']): this {
    this.steps.push({ name, run });
    return this;
  }

  /** Run every step in order (safe to call twice: the second call gets the same promise). */
  run(reason: string): Promise<void> {
    if (!this.running) {
      this.running = (async () => {
        logger.info(`shutting down (${reason})`);
        for (const s of this.steps) {
          try {
            await s.run();
          } catch (err) {
            logger.warn(`shutdown step "${s.name}" failed: ${errMessage(err)}`);
          }
        }
        logger.info('shutdown complete');
      })();
    }
    return this.running;
  }

  /** SIGTERM/SIGINT → run, then exit; force-quit after `forceMs`. */
  onSignals(forceMs = 20_000): void {
    let signals = 0;
    const handler = (sig: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        logger.warn(`second ${sig}: exiting now`);
        process.exit(1);
      }
      const t = setTimeout(() => {
        logger.error(`shutdown took longer than ${forceMs} ms: exiting`);
        process.exit(1);
      }, forceMs);
      t.unref();
      this.run(sig).finally(() => process.exit(0));
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  }
}

/** Errors that escaped everything are logged, never crash the process. */
export function guardProcess(): void {
  process.on('unhandledRejection', (err) => logger.error(`unhandled rejection: ${errMessage(err)}`));
  process.on('uncaughtException', (err) => logger.error(`uncaught exception: ${errMessage(err)}`, { stack: err.stack }));
}
