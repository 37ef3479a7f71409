// `node --import` this file to log the URL of every module the process resolves, one a line, to the
// file named by VPC_GUARD_MODULE_LOG. The hooks run on the loader's thread; appends are synchronous,
// so a module's line is written before the import that asked for it completes.
import { register } from 'node:module';

register('./module-hooks.mjs', import.meta.url);
