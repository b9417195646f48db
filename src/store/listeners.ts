import type { StoredMessage } from './store.js';

/** Called with each newly stored message, once it is committed. */
export type MessageListener = (message: StoredMessage) => void;

/**
 * The listeners of Store.subscribe. A listener that throws is dropped from nothing and stops
 * nothing: the others still get the message, and the write that caused it is already answered.
 */
export class Listeners {
  private readonly listeners = new Set<MessageListener>();

  /** Adds `listener`; the function returned removes it. */
  add(listener: MessageListener): () => void {
    // a wrapper, so that one function subscribed twice is called twice and removed once
    const entry: MessageListener = (message) => listener(message);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  get size(): number {
    return this.listeners.size;
  }

  emit(message: StoredMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch {
        // a listener's failure is its own (see the comment above)
      }
    }
  }
}
