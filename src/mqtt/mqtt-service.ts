import type { Logger } from 'pino';
import { envName, flagName, type Config, type ConfigKey } from '../config/config-schema.js';
import { bindError, ListenerError } from '../config/listener-error.js';
import type { DeviceMetricsRecorder } from '../core/device-metrics.js';
import type { DeviceService } from '../core/device-service.js';
import type { SignalSubscriptions } from '../core/signal-subscriptions.js';
import { createMqttBroker } from './mqtt-broker.js';
import { closeMqtt, createMqttListeners, listen, type MqttListener } from './mqtt-listeners.js';
import type { Aedes } from 'aedes';

export interface MqttServiceDeps {
  config: Pick<Config, 'bind' | 'mqttPort' | 'mqttsPort' | 'tlsCert' | 'tlsKey'>;
  devices: DeviceService;
  /** Devices' signal subscriptions (s/<identity>/<signal>). */
  signals: SignalSubscriptions;
  activity: DeviceMetricsRecorder;
  logger: Logger;
}

const label = (key: ConfigKey) => `${envName(key)} (${flagName(key)})`;

/** The MQTT device listeners of CONTRACT §1/§3: over TCP, and over TLS when it is configured. */
export function createMqttService({ config, devices, signals, activity, logger }: MqttServiceDeps) {
  let running: { broker: Aedes; listeners: MqttListener[] } | undefined;

  async function stop(): Promise<void> {
    const current = running;
    running = undefined;
    if (current) await closeMqtt(current.broker, current.listeners);
  }

  return {
    /** Binds mqtt, then mqtts when TLS is configured; throws a ListenerError naming the setting. */
    async start(): Promise<{ mqttPort: number; mqttsPort?: number }> {
      const broker = await createMqttBroker({ devices, signals, activity, logger });
      let listeners: MqttListener[];
      try {
        listeners = createMqttListeners(broker, {
          bind: config.bind,
          mqttPort: config.mqttPort,
          mqttsPort: config.mqttsPort,
          tls:
            config.tlsCert && config.tlsKey
              ? { certFile: config.tlsCert, keyFile: config.tlsKey }
              : undefined,
        });
      } catch (error) {
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        throw new ListenerError(
          `${label('tlsCert')} and ${label('tlsKey')}: not a usable PEM certificate and key (${(error as Error).message})`,
        );
      }
      running = { broker, listeners };
      const ports: { mqttPort: number; mqttsPort?: number } = { mqttPort: 0 };
      for (const listener of listeners) {
        const key = listener.name === 'mqtt' ? 'mqttPort' : 'mqttsPort';
        try {
          ports[key] = await listen(listener, config.bind);
        } catch (error) {
          await stop();
          throw bindError(error, key, config[key], config.bind);
        }
        logger.info({ listener: listener.name, port: ports[key] }, 'listening');
      }
      return ports;
    },
    /** Stops accepting, lets queued publishes be acknowledged, and closes every connection. */
    stop,
  };
}
