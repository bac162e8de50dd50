/**
 * Preloaded into the fake API server (`node --import`): in "refuse" mode its main.js closes every socket
 * and holds no other handle, so with stdout on a file it simply exits on SIGUSR1 instead of waiting for
 * SIGUSR2. Its SIGTERM/SIGINT handlers exit explicitly, so this timer never delays a stop.
 */
setInterval(() => undefined, 2 ** 31 - 1);
