// Preloaded with --import: registers module-log-hook.mjs.
import { register } from 'node:module';

register('./module-log-hook.mjs', import.meta.url);
