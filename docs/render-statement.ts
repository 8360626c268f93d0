/**
 * Renders the first page of a sample CAS statement (made-up data, the same as the golden
 * statement's) to docs/cas-statement.png with pdftoppm (poppler-utils):
 *
 *   npx tsx docs/render-statement.ts
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { statementContent } from '../src/domain/statement.ts';
import { statementPdf } from '../src/pdf/statement-pdf.ts';
import { renderFirstPage } from '../test/helpers/pdf.ts';
import { sampleStatementInput } from '../test/helpers/statement-sample.ts';

const pdf = await statementPdf(statementContent(sampleStatementInput()));
const out = path.join(import.meta.dirname, 'cas-statement.png');
writeFileSync(out, renderFirstPage(pdf, 80));
console.log(out);
