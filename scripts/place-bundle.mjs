// ncc writes build/<entry>/ (index.js plus the chunks of lazily loaded modules). Each entry ships as
// dist/<entry>/ with dist/<entry>.js as its stable path (action.yml's main, the package bin).
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';

mkdirSync('dist', { recursive: true });
for (const entry of readdirSync('build', { withFileTypes: true })) {
  if (!entry.isDirectory() || entry.name === 'tsc') continue;
  rmSync(`dist/${entry.name}`, { recursive: true, force: true });
  cpSync(`build/${entry.name}`, `dist/${entry.name}`, { recursive: true });
  const shebang = entry.name === 'cli' ? '#!/usr/bin/env node\n' : '';
  writeFileSync(`dist/${entry.name}.js`, `${shebang}import './${entry.name}/index.js';\n`, { mode: 0o755 });
}
