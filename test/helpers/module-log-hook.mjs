// A module loader hook for tests: appends the URL of every module loaded to the file named by
// CAS_BDT_TEST_MODULE_LOG (used to check which libraries a command loads).
import { appendFileSync } from 'node:fs';
import process from 'node:process';

export async function load(url, context, nextLoad) {
  const file = process.env.CAS_BDT_TEST_MODULE_LOG;
  if (file) appendFileSync(file, `${url}\n`);
  return nextLoad(url, context);
}
