import ts from 'typescript';

/**
 * What the public surface of the package says about itself, read with the TypeScript compiler from the sources (not
 * from a list kept by hand): the options each decorator takes, the keys `ResilienceModule.forRoot` accepts, and the
 * properties of every exported options type. The docs tests hold docs/reference.md to it.
 */
export interface CodeSurface {
  /** Property names of the options each exported decorator accepts (its parameters' object types, arrays' items). */
  decoratorOptions(name: string): string[];
  /** The keys `ResilienceModule.forRoot()` accepts. */
  moduleOptionKeys(): string[];
  /** Property names of the type of `ResilienceModule.forRoot()`'s option `key`. */
  moduleOptionProperties(key: string): string[];
  /** Every exported type whose name ends in `Options`, with its property names. */
  optionTypes(): Map<string, string[]>;
}

const root = new URL('../../', import.meta.url);

export function readCodeSurface(entry = 'lib/index.ts'): CodeSurface {
  const configPath = new URL('tsconfig.json', root).pathname;
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, new URL('.', root).pathname);
  const entryPath = new URL(entry, root).pathname;
  const program = ts.createProgram([entryPath], { ...parsed.options, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entryPath);
  if (!source) throw new Error(`cannot read ${entry}`);
  const exports = new Map(
    checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).map((symbol) => [symbol.getName(), symbol]),
  );
  const resolve = (name: string) => {
    const symbol = exports.get(name);
    if (!symbol) throw new Error(`${entry} does not export ${name}`);
    return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  };
  const valueType = (name: string) => {
    const symbol = resolve(name);
    return checker.getTypeOfSymbolAtLocation(symbol, symbol.valueDeclaration ?? source);
  };

  /** Property names of the object types in `type` (union members, array items), not of functions or primitives. */
  const objectProperties = (type: ts.Type, seen = new Set<ts.Type>()): string[] => {
    if (seen.has(type)) return [];
    seen.add(type);
    if (type.isUnion() || type.isIntersection()) return type.types.flatMap((part) => objectProperties(part, seen));
    if (checker.isArrayType(type) || checker.isTupleType(type)) {
      return checker.getTypeArguments(type as ts.TypeReference).flatMap((item) => objectProperties(item, seen));
    }
    if (!(type.flags & ts.TypeFlags.Object) || type.getCallSignatures().length > 0) return [];
    return checker.getPropertiesOfType(type).map((property) => property.getName());
  };
  const unique = (names: string[]) => [...new Set(names)].sort();

  const forRootParameter = () => {
    const forRoot = valueType('ResilienceModule').getProperty('forRoot');
    if (!forRoot) throw new Error('ResilienceModule has no forRoot');
    const signature = checker.getTypeOfSymbolAtLocation(forRoot, source).getCallSignatures()[0];
    const parameter = signature.getParameters()[0];
    return checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(parameter, source));
  };

  return {
    decoratorOptions(name) {
      const signatures = valueType(name).getCallSignatures();
      return unique(
        signatures.flatMap((signature) =>
          signature.getParameters().flatMap((parameter) => {
            const type = checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(parameter, source));
            return objectProperties(type);
          }),
        ),
      );
    },
    moduleOptionKeys() {
      return unique(checker.getPropertiesOfType(forRootParameter()).map((property) => property.getName()));
    },
    moduleOptionProperties(key) {
      const property = forRootParameter().getProperty(key);
      if (!property) return [];
      const type = checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(property, source));
      return unique(objectProperties(type));
    },
    optionTypes() {
      const types = new Map<string, string[]>();
      for (const [name] of exports) {
        if (!name.endsWith('Options')) continue;
        const symbol = resolve(name);
        if (!(symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias))) continue;
        types.set(name, unique(objectProperties(checker.getDeclaredTypeOfSymbol(symbol))));
      }
      return types;
    },
  };
}

/**
 * The names each entry point exports only as types (interfaces, type aliases, `export type`), read with one program
 * over every entry: runtime values are read by importing the module, types only the compiler sees.
 */
export function readExportedTypes(entries: readonly string[]): Map<string, string[]> {
  const configPath = new URL('tsconfig.json', root).pathname;
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, new URL('.', root).pathname);
  const paths = entries.map((entry) => new URL(entry, root).pathname);
  const program = ts.createProgram(paths, { ...parsed.options, noEmit: true });
  const checker = program.getTypeChecker();
  return new Map(
    entries.map((entry, index) => {
      const source = program.getSourceFile(paths[index]);
      if (!source) throw new Error(`cannot read ${entry}`);
      const types = checker
        .getExportsOfModule(checker.getSymbolAtLocation(source)!)
        .filter((symbol) => {
          const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
          return (
            !(target.flags & ts.SymbolFlags.Value) ||
            (symbol.declarations ?? []).some(ts.isTypeOnlyImportOrExportDeclaration)
          );
        })
        .map((symbol) => symbol.getName());
      return [entry, types.sort()];
    }),
  );
}
