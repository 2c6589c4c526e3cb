/** A set of callbacks; one that throws must not stop the others (it is the host page's bug). */
export class Listeners<T> {
  private readonly set = new Set<(value: T) => void>();

  /** Adds a listener and returns its remover. */
  add(listener: (value: T) => void): () => void {
    this.set.add(listener);
    return () => {
      this.set.delete(listener);
    };
  }

  /** Calls every listener with `value`. */
  emit(value: T): void {
    for (const listener of [...this.set]) {
      try {
        listener(value);
      } catch (err) {
        // Reported like an uncaught error in browsers; in Node there is no console to borrow.
        const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
        report?.(err);
      }
    }
  }

  get size(): number {
    return this.set.size;
  }
}
