/** Where `@Controller()` and `@Get()`, `@Post()` ... record their paths (`PATH_METADATA` of @nestjs/common). */
const PATH = 'path';

/**
 * The paths an HTTP handler is declared at (`@Controller('health')` + `@Get('live')` is `/health/live`), without
 * the global prefix, versions or `RouterModule` paths Nest puts in front: what a user means by "the health route"
 * whatever prefix the application adds. Read once per handler, never per request.
 */
export function declaredRoutes(handler: object, classRef: object): string[] {
  const controllerPaths = pathsOf(Reflect.getMetadata(PATH, classRef));
  const methodPaths = pathsOf(Reflect.getMetadata(PATH, handler));
  return controllerPaths.flatMap((controller) => methodPaths.map((method) => joinPath(controller, method)));
}

function pathsOf(metadata: unknown): string[] {
  if (Array.isArray(metadata)) return metadata.filter((path): path is string => typeof path === 'string');
  return typeof metadata === 'string' ? [metadata] : [''];
}

function joinPath(...parts: string[]): string {
  const segments = parts.map((part) => part.replace(/^\/+|\/+$/g, '')).filter((part) => part !== '');
  return `/${segments.join('/')}`;
}

/** Whether `path` is one of `exempt` or below one of them (`/health/live` is below `/health`). */
export function isPathBelow(path: string, exempt: readonly string[]): boolean {
  return exempt.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}
