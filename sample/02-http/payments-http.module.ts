import { Module } from '@nestjs/common';
import { PaymentsModule } from '../shared/payments.module.js';
import { PaymentsController } from './payments.controller.js';

/** HTTP routes over the resilient payments service, plus handlers with their own @Timeout and @RateLimit. */
@Module({ imports: [PaymentsModule], controllers: [PaymentsController] })
export class PaymentsHttpModule {}
