import { Module } from '@nestjs/common';
import { PaymentsModule } from '../shared/payments.module.js';
import { OrdersController } from './orders.controller.js';

/** Message handlers of the TCP microservice. */
@Module({ imports: [PaymentsModule], controllers: [OrdersController] })
export class OrdersModule {}
