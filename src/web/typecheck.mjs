// Type-checks the dashboard (tsconfig.json here: DOM lib, JSX). The SDK files it imports are checked too, but their
// diagnostics are left to the root tsconfig, which checks the SDK against Node's lib, the one it is written for: under
// the DOM lib, TypeScript 5.9's generic Uint8Array is not a DOM `BodyInit`, which only the SDK's upload path trips on.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const sdkDir = path.resolve(here, '..', 'sdk') + path.sep;
const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail([d]) };
const config = ts.getParsedCommandLineOfConfigFile(path.join(here, 'tsconfig.json'), {}, host);
if (!config) process.exit(1);
const program = ts.createProgram(config.fileNames, config.options);
const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program)].filter((d) => !d.file || !path.resolve(d.file.fileName).startsWith(sdkDir));
if (diagnostics.length) fail(diagnostics);

function fail(ds) {
  const formatHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' };
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(ds, formatHost));
  process.exit(1);
}
