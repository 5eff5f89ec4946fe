import { Module } from '@nestjs/common';
import { PaymentGateway } from './payment-gateway.js';
import { PaymentsService } from './payments.service.js';

/** The simulated gateway and the resilient service that calls it, shared by the samples. */
@Module({ providers: [PaymentGateway, PaymentsService], exports: [PaymentGateway, PaymentsService] })
export class PaymentsModule {}
