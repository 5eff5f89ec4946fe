export { RmqAcknowledge } from './rmq-acknowledge.decorator.js';
export { DEFAULT_RMQ_ACKNOWLEDGE_OPTIONS, type RmqAcknowledgeOptions } from './rmq-acknowledge.options.js';
export { RMQ_HEADERS } from './rmq-headers.js';
export { rmqMessageId } from './rmq-message-id.js';
export { RmqPublisherModule, InjectRmqPublisher, getRmqPublisherToken } from './rmq-publisher.module.js';
export type { RmqPublisherModuleAsyncOptions } from './rmq-publisher.module.js';
export { RmqPublisher } from './rmq-publisher.js';
export type { RmqEmitOptions, RmqPublishOptions, RmqPublishResult } from './rmq-publisher.options.js';
export { DEFAULT_RMQ_PUBLISHER_OPTIONS } from './rmq-publisher.options.js';
export type {
  ResolvedRmqPublisherOptions,
  RmqOutboxOptions,
  RmqPublishRetryOptions,
  RmqPublisherOptions,
} from './rmq-publisher.options.js';
export { RmqPublishError } from './rmq-publish.error.js';
export { MemoryOutboxStore } from '../core/outbox/memory-outbox.store.js';
export type {
  OutboxAppendResult,
  OutboxEntry,
  OutboxLimits,
  OutboxRefusal,
  OutboxSize,
  OutboxStore,
} from '../core/outbox/outbox.store.js';
export type { OutboxSnapshot } from '../core/outbox/outbox.state.js';
export type { OutboxFullEvent, OutboxParkedEvent, OutboxSentEvent } from '../core/outbox/outbox.events.js';
export {
  RmqDeadLetterStore,
  type RmqDeadLetterConnection,
  type RmqDeadLetterStoreOptions,
} from './rmq-dead-letter.store.js';
