/**
 * Runs `body` while a measurement runs and always stops the measurement: on success returns what
 * body returned and what stop() reported; on failure stops it and rethrows body's error.
 */
export async function during<T, R>(measurement: { stop(): Promise<R> }, body: () => Promise<T>): Promise<{ value: T; report: R }> {
  let value: T;
  try {
    value = await body();
  } catch (err) {
    await measurement.stop().catch(() => undefined);
    throw err;
  }
  return { value, report: await measurement.stop() };
}
