/**
 * Shares one read among concurrent callers without ever answering from the past: a caller gets
 * the result of a read that STARTED after it called (the one about to start, or the next one if
 * a read is already running). At most one read runs at a time, and however many callers arrive
 * meanwhile, they cost one more. What any caller saw committed before it called is in its answer.
 */
export class FreshRead<T> {
  private running: Promise<T> | null = null;
  private next: Promise<T> | null = null;

  constructor(private readonly read: () => Promise<T>) {}

  get(): Promise<T> {
    this.next ??= (this.running ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        this.next = null;
        const running = this.read();
        this.running = running;
        const done = () => {
          if (this.running === running) this.running = null;
        };
        running.then(done, done);
        return running;
      });
    return this.next;
  }
}
