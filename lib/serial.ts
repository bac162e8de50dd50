/** Runs async jobs one at a time, in call order; a failed job does not stop the next one. */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(job);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
