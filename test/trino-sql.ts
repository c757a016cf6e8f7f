/**
 * A Trino SQL syntax check (Athena's engine v3 is Trino) with dt-sql-parser's Trino grammar. The
 * package ships ESM with directory imports that neither Node nor jest resolve, so its Trino parser
 * is bundled once with esbuild (a dev dependency already) and loaded as CommonJS.
 */
import { buildSync } from 'esbuild';

interface SyntaxError {
  startLine: number;
  startColumn: number;
  message: string;
}
interface TrinoParser {
  validate(sql: string): SyntaxError[];
}

let parser: TrinoParser | null = null;

function load(): TrinoParser {
  const bundle = buildSync({
    entryPoints: [require.resolve('dt-sql-parser/dist/parser/trino/index.js')],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  });
  const module = { exports: {} as { TrinoSQL?: new () => TrinoParser } };
  new Function('module', 'exports', 'require', bundle.outputFiles[0]?.text ?? '')(
    module,
    module.exports,
    require,
  );
  const TrinoSQL = module.exports.TrinoSQL;
  if (TrinoSQL === undefined) throw new Error('dt-sql-parser has no TrinoSQL');
  return new TrinoSQL();
}

/** The syntax errors of a Trino statement, as `line:column message` (empty when it parses). */
export function trinoSyntaxErrors(sql: string): string[] {
  parser ??= load();
  return parser.validate(sql).map((e) => `${e.startLine}:${e.startColumn} ${e.message}`);
}
