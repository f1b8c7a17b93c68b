/** Ctrl-C and SIGTERM for the commands that run until told to stop. */

/**
 * Resolves on the first SIGINT or SIGTERM; a second one exits at once (130: the kernel detaches
 * everything when our fds close). `dispose` removes the handlers.
 */
export function stopSignals(): { promise: Promise<NodeJS.Signals>; dispose: () => void } {
  let dispose = (): void => {};
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    let count = 0;
    const on = (sig: NodeJS.Signals): void => {
      if (++count > 1) process.exit(130);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    dispose = () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    };
  });
  return { promise, dispose };
}
