import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EventHandler } from './event-handler-runner.js';

/**
 * Imports the event handler module and returns its default export, which must be a function.
 * Throws an Error saying what is wrong with the module; the caller names the setting.
 */
export async function loadEventHandler(path: string): Promise<EventHandler> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
  } catch (error) {
    throw new Error(`cannot load ${path}: ${(error as Error).message}`);
  }
  if (typeof module.default !== 'function') {
    throw new Error(
      `${path} has no default export function (export default async function (event, device2) {…})`,
    );
  }
  return module.default as EventHandler;
}
