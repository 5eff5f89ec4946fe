import { Logger } from '@nestjs/common';

/** A class as Nest registers it: the constructor is its identity, `name` only a label. */
type ClassRef = abstract new (...args: never[]) => unknown;

/**
 * The names an application's classes go by wherever nest-resilience names a method (`Class.method`): inline policies
 * and their registry state, idempotency records and scopes, rate-limit buckets, dead letters, metrics, health,
 * events and errors. Identity is the class, never its name: two classes called `OrdersController` (a v1 and a v2,
 * in two modules) must not share a breaker, a bucket or a stored answer.
 *
 * The first class of a name keeps it; each later one is named after its module, `OrdersV2Module/OrdersController`
 * (then `#2`, `#3` ... if that is taken too), and a warning says so once. The explorer names every class with
 * resilience decorators at bootstrap, controllers then providers, in Nest's module order: the same code gives the same
 * names in every replica and after every restart, which Redis keys need. Adding a class named like an existing one
 * never renames the existing one when it comes later in that order, so keys already stored stay valid.
 */
export class ClassNames {
  private readonly byClass = new Map<ClassRef, string>();
  private readonly classByName = new Map<string, ClassRef>();
  /** The module each named class was found in (for the warning about a clash). */
  private readonly moduleOf = new Map<ClassRef, string | undefined>();

  /** Names `classRef` if it has no name yet (`module`: the name of the module it was found in); returns its name. */
  register(classRef: ClassRef, module: string | undefined): string {
    const known = this.byClass.get(classRef);
    if (known !== undefined) return known;
    const own = classRef.name;
    let name = own;
    const first = this.classByName.get(own);
    if (first !== undefined) {
      const base = module === undefined || module === '' ? own : `${module}/${own}`;
      name = base;
      for (let n = 2; this.classByName.has(name); n++) name = `${base}#${n}`;
      warnClash(own, name, this.moduleOf.get(first), module);
    }
    this.byClass.set(classRef, name);
    this.classByName.set(name, classRef);
    this.moduleOf.set(classRef, module);
    return name;
  }

  /** The name of `classRef`: as registered, else registered now (a class first seen on a request: no module known). */
  nameOf(classRef: ClassRef): string {
    return this.byClass.get(classRef) ?? this.register(classRef, undefined);
  }
}

function warnClash(own: string, name: string, firstModule: string | undefined, module: string | undefined): void {
  const where = (at: string | undefined) => (at === undefined ? '' : ` (in ${at})`);
  new Logger('nest-resilience').warn(
    `Two classes are named ${own}${where(firstModule)} and${where(module)}: the second one's policies, ` +
      `idempotency records, rate limits, metrics and events are named ${name}.<method>, so that the two share ` +
      `nothing. To choose the names, rename a class, or name its policies with named configurations ` +
      `(@CircuitBreaker('orders-v2'))`,
  );
}
