// ncc writes build/<entry>/ (index.js plus the chunks of lazily loaded modules). Each entry ships as
// dist/<entry>/ with dist/<entry>.js as its stable path (action.yml's main, the package bin).
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';

mkdirSync('dist', { recursive: true });
for (const entry of ['cli', 'index']) {
  rmSync(`dist/${entry}`, { recursive: true, force: true });
  cpSync(`build/${entry}`, `dist/${entry}`, { recursive: true });
  const shebang = entry === 'cli' ? '#!/usr/bin/env node\n' : '';
  writeFileSync(`dist/${entry}.js`, `${shebang}import './${entry}/index.js';\n`, { mode: 0o755 });
}
