/**
 * What `new Worker` is given to run a module of this project in a thread: the compiled
 * `.js` file, or, run from the TypeScript sources, a snippet that registers tsx's loader
 * in the thread before it imports the `.ts` module.
 */
export function workerSource(fromModule: string, name: string): { source: string | URL; eval: boolean } {
  const fromSources = fromModule.endsWith('.ts');
  const url = new URL(`./${name}${fromSources ? '.ts' : '.js'}`, fromModule);
  if (!fromSources) return { source: url, eval: false };
  return {
    source: `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`,
    eval: true,
  };
}
