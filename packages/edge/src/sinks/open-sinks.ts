import type { VideoConfig } from '@squeezegate/shared';
import type { Logger } from 'pino';
import type { EventSink } from './event-sink.ts';
import { openJsonlSink } from './jsonl-sink.ts';
import { createMqttSink } from './mqtt-sink.ts';

/** The event sinks the video settings ask for: a JSON-lines file, MQTT, both or none. */
export async function openSinks(video: Readonly<VideoConfig>, logger: Logger): Promise<EventSink[]> {
  const sinks: EventSink[] = [];
  if (video.events) sinks.push(await openJsonlSink({ path: video.events, logger }));
  if (video.mqtt) sinks.push(createMqttSink({ url: video.mqtt.url, prefix: video.mqtt.prefix, logger }));
  return sinks;
}
