/**
 * A measuring stick for the HTTP benchmark, not a policy: the least the five interceptor policies' happy path could
 * cost if one object did all of it. Per request, one Map read for the handler's state, a concurrency count (the
 * bulkhead), an open flag (the breaker) and a success count, one node appended to and removed from a deadline list
 * (the timeout; no clock read, no timer work), and one Subscriber passing the answer on. No retry, no fallback, no
 * events, no error mapping: what the real policies add beyond this row is the price of their generality.
 */
import {
  Controller,
  Get,
  Injectable,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable, Subscriber } from 'rxjs';

interface DeadlineNode {
  older?: DeadlineNode;
  newer?: DeadlineNode;
}

/** What the five policies keep per handler, all in one object. */
class HandlerState {
  active = 0;
  readonly maxConcurrent = 1000;
  open = false;
  successes = 0;
  oldest?: DeadlineNode;
  newest?: DeadlineNode;
}

/** One request: the deadline node and the Subscriber of `next.handle()` in one object. */
class StandInCall extends Subscriber<unknown> implements DeadlineNode {
  older?: DeadlineNode = undefined;
  newer?: DeadlineNode = undefined;

  constructor(
    private readonly state: HandlerState,
    private readonly outer: Subscriber<unknown>,
  ) {
    super();
    state.active++;
    if (state.newest === undefined) state.oldest = this;
    else {
      state.newest.newer = this;
      this.older = state.newest;
    }
    state.newest = this;
  }

  protected override _next(value: unknown): void {
    this.outer.next(value);
  }

  protected override _error(error: unknown): void {
    this.finish();
    this.outer.error(error);
  }

  protected override _complete(): void {
    this.finish();
    this.state.successes++;
    this.outer.complete();
  }

  private finish(): void {
    const { state } = this;
    state.active--;
    if (this.older === undefined) state.oldest = this.newer;
    else this.older.newer = this.newer;
    if (this.newer === undefined) state.newest = this.older;
    else this.newer.older = this.older;
  }
}

const states = new Map<object, HandlerState>();

@Injectable()
class FusedStandInInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    let state = states.get(context.getHandler());
    if (state === undefined) states.set(context.getHandler(), (state = new HandlerState()));
    const handlerState = state;
    return new Observable((outer) => {
      if (handlerState.open || handlerState.active >= handlerState.maxConcurrent) {
        outer.error(new Error('refused'));
        return undefined;
      }
      return next.handle().subscribe(new StandInCall(handlerState, outer));
    });
  }
}

@Controller()
@UseInterceptors(FusedStandInInterceptor)
export class FusedStandInController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }
}
