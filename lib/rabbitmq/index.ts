export { RmqAcknowledge } from './rmq-acknowledge.decorator.js';
export { DEFAULT_RMQ_ACKNOWLEDGE_OPTIONS, type RmqAcknowledgeOptions } from './rmq-acknowledge.options.js';
export { RMQ_HEADERS } from './rmq-headers.js';
export {
  RmqDeadLetterStore,
  type RmqDeadLetterConnection,
  type RmqDeadLetterStoreOptions,
} from './rmq-dead-letter.store.js';
