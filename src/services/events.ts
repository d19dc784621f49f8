/**
 * A typed EventEmitter: `on('moderation', (e) => ...)` knows `e`'s type.
 */
import { EventEmitter } from 'node:events';

/** Maps event names to their listener argument tuples. */
export type EventMap = Record<string, unknown[]>;

/** EventEmitter with typed `on`, `once`, `off` and `emit`. */
export class TypedEmitter<E extends EventMap> extends EventEmitter {
  override on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
  override once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }
  override off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }
  override emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return super.emit(event, ...args);
  }
  /**
   * Emits without letting a throwing listener reach the caller (an HTTP handler must not crash the process because
   * user code threw). Returns false when a listener threw.
   */
  safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    try {
      super.emit(event, ...args);
      return true;
    } catch {
      return false;
    }
  }
}
