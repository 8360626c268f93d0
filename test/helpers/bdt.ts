/** BDT files in the real Home Office format for tests: the builders ship with the demo (src/xml/bdt-samples.ts). */
export * from '../../src/xml/bdt-samples.ts';
