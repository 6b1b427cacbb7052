/** A listener that could not start; the message names the setting at fault. */
export class ListenerError extends Error {}
