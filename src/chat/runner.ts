// Once per channel across the cluster: every web node runs a ChatRunner for the configured
// channel; the one holding `sf:chat:lock:{channel}` (a TTL'd key, renewed on every tick) runs
// the bridge, the others wait and take over when the key expires or is released.
//
// No two bridges at once: the holder stops its bridge as soon as a renewal says another node
// holds the key, and also when it has not renewed for half the TTL (Redis away or slow),
// checked every quarter TTL — before the key can expire and another node take it. Scripts: src/redis/lua/lease-*.lua (same as streams).
//
// The holder also writes its bridge's state to `sf:chat:state:{channel}` (TTL) and publishes
// it on `sf:chat:status`, so every node's /api/health and every worker's poll scene see it.
import os from 'node:os';
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import { keys } from '../keys.js';
import { log, errMessage } from '../logger.js';
import { defineScripts } from '../redis/index.js';
import { logOnce } from '../redis/log-once.js';
import type { ChatBridge, ChatStats } from './bridge.js';

const logger = log('CHAT');

export interface ChatKeys {
  lock(channel: string): string;
  state(channel: string): string;
  status(): string;
}

export const chatKeys = (prefix = ''): ChatKeys => ({
  lock: (c) => prefix + keys.chatLock(c),
  state: (c) => prefix + keys.chatState(c),
  status: () => prefix + keys.chatStatus(),
});

/** What every node shows: the bridge's stats plus who runs it. */
export interface ChatStatus extends Partial<ChatStats> {
  platform: string;
  channel: string;
  connected: boolean;
  /** The node running the bridge, or null when none does right now. */
  node: string | null;
  updatedAt: string;
}

export interface ChatRunnerOptions {
  redis: Redis;
  platform: string;
  channel: string;
  /** Builds a fresh bridge each time this node takes the lock; its state changes call `onState`. */
  makeBridge: (onState: () => void) => ChatBridge;
  ttlMs?: number;
  nodeId?: string;
  keys?: ChatKeys;
}

export class ChatRunner {
  readonly nodeId: string;
  private bridge: ChatBridge | null = null;
  private timer: NodeJS.Timeout | undefined;
  private lastRenewed = 0;
  private ticking: Promise<void> | null = null;
  private stopped = true;
  private readonly k: ChatKeys;
  private readonly ttlMs: number;
  private readonly outage = logOnce({ warn: (m) => logger.warn(m), recovered: () => logger.info('chat lock reachable again') });

  constructor(private readonly o: ChatRunnerOptions) {
    this.nodeId = o.nodeId ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
    this.k = o.keys ?? chatKeys();
    this.ttlMs = o.ttlMs ?? 15_000;
  }

  get platform(): string {
    return this.o.platform;
  }

  get running(): boolean {
    return this.bridge !== null;
  }

  /** This node's bridge stats (null on a standby node). */
  localStats(): ChatStats | null {
    return this.bridge?.stats() ?? null;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const every = Math.max(100, Math.min(2000, Math.floor(this.ttlMs / 4)));
    this.timer = setInterval(() => {
      // Checked apart from the renewal: a renewal to an unreachable Redis may hang for a while.
      if (this.bridge && Date.now() - this.lastRenewed > this.ttlMs / 2) void this.halt('lock not renewed in time (Redis unreachable?)');
      void this.tick();
    }, every);
    this.timer.unref();
    void this.tick();
  }

  /** Stops the bridge and hands the channel to another node at once. Safe twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    if (this.bridge) {
      await this.release();
      await this.o.redis.del(this.k.state(this.o.channel)).catch(() => undefined);
      await this.publish({ ...this.idleStatus(), node: null });
    }
  }

  /** The channel's state as every node sees it (from Redis; this node's own stats when it runs the bridge). */
  async status(): Promise<ChatStatus> {
    if (this.bridge) return this.current();
    const raw = await this.o.redis.get(this.k.state(this.o.channel));
    return raw ? (JSON.parse(raw) as ChatStatus) : this.idleStatus();
  }

  private tick(): Promise<void> {
    this.ticking ??= this.renew().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    const { redis, channel } = this.o;
    let held: boolean;
    // The key's TTL starts when Redis runs the script, after this: counting from here is safe.
    const sentAt = Date.now();
    try {
      held = (await defineScripts(redis).leaseHold([this.k.lock(channel)], [this.nodeId, this.ttlMs])) === 1;
      this.outage.ok();
    } catch (err) {
      // The watchdog in start() stops the bridge before the key can expire.
      this.outage.fail(`chat lock for #${channel}: ${errMessage(err)}`);
      return;
    }
    if (this.stopped) {
      if (held && !this.bridge) await this.release();
      return;
    }
    if (!held) {
      if (this.bridge) await this.halt('another node holds the lock');
      return;
    }
    this.lastRenewed = sentAt;
    if (!this.bridge) {
      logger.info(`this node (${this.nodeId}) runs the chat bridge of #${channel}`);
      this.bridge = this.o.makeBridge(() => void this.publishNow());
      this.bridge.start();
    }
    await this.publishNow();
  }

  private async halt(why: string): Promise<void> {
    const b = this.bridge;
    if (!b) return;
    this.bridge = null;
    logger.warn(`chat bridge of #${this.o.channel} stopped on this node: ${why}`);
    await b?.stop();
  }

  private async release(): Promise<void> {
    const b = this.bridge;
    this.bridge = null;
    await b?.stop();
    await defineScripts(this.o.redis).leaseRelease([this.k.lock(this.o.channel)], [this.nodeId]).catch(() => undefined);
  }

  private current(): ChatStatus {
    const s = this.bridge!.stats();
    return { ...s, node: this.nodeId, updatedAt: new Date().toISOString() };
  }

  private idleStatus(): ChatStatus {
    return { platform: this.o.platform, channel: this.o.channel, connected: false, node: null, updatedAt: new Date().toISOString() };
  }

  private async publishNow(): Promise<void> {
    if (!this.bridge) return;
    const status = this.current();
    try {
      await this.o.redis.set(this.k.state(this.o.channel), JSON.stringify(status), 'PX', this.ttlMs * 2);
      await this.publish(status);
    } catch (err) {
      this.outage.fail(`chat state for #${this.o.channel}: ${errMessage(err)}`);
    }
  }

  private async publish(status: ChatStatus): Promise<void> {
    await this.o.redis.publish(this.k.status(), JSON.stringify(status)).catch(() => undefined);
  }
}
