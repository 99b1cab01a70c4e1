// One structured logger per component. pino writes JSON lines to stderr so that stdout stays free
// for protocol output (the CNI plugins print their result on stdout).
import pino from 'pino';

export type Logger = pino.Logger;

export function logger(component: string, level = process.env.HAWSER_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: component, level, base: { component } }, pino.destination(2));
}
