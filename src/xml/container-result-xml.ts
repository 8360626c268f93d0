/** Renders `container.result.xml`, the result of a zipped file (results.md; schemas/container-result.xsd). */
import { isDryRunId, type ContainerEntry } from '../domain/result.ts';
import type { FileOutcome } from '../domain/types.ts';
import { RESULT_NS } from './result-xml.ts';
import { xmlAttr, xmlSafe, xmlText } from './xml-safe.ts';

interface ContainerResult {
  fileName: string;
  sha256: string;
  sponsorLicenceNumber: string;
  processedAt: Date;
  outcome: FileOutcome;
  entries: ContainerEntry[];
}

const text = (s: string) => xmlText(xmlSafe(s));
const attr = (s: string) => xmlAttr(xmlSafe(s));

function entryXml(e: ContainerEntry): string {
  if (e.error !== undefined) return `  <Entry name="${attr(e.name)}">\n    <Error code="E_ZIP_ENTRY">${text(e.error)}</Error>\n  </Entry>`;
  // A dry run (`validate`) stores nothing: its entries' ids are placeholders, not submissions.
  const id = e.submissionId !== undefined && !isDryRunId(e.submissionId) ? ` submissionId="${e.submissionId}"` : '';
  const result = e.result !== undefined ? ` result="${attr(e.result)}"` : '';
  return `  <Entry name="${attr(e.name)}"${id}${result}>${e.outcome ?? 'REJECTED'}</Entry>`;
}

export function renderContainerResult(r: ContainerResult): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<ContainerResult xmlns="${RESULT_NS}">`,
    `  <FileName>${text(r.fileName)}</FileName>`,
    `  <Sha256>${r.sha256}</Sha256>`,
    `  <SponsorLicenceNumber>${text(r.sponsorLicenceNumber)}</SponsorLicenceNumber>`,
    `  <ProcessedAt>${r.processedAt.toISOString()}</ProcessedAt>`,
    `  <Outcome>${r.outcome}</Outcome>`,
    ...r.entries.map(entryXml),
    '</ContainerResult>',
    '',
  ].join('\n');
}
